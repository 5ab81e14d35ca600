import chalk from 'chalk';
import { existsSync } from 'node:fs';
import { probeNative } from '../backend/select.js';
import { locateAfter, locateDataset, searchPath } from '../data/locate.js';
import { databasePath } from './options.js';

/** What is installed and usable, and what to do about each missing piece. */
export async function doctorCommand(options: { db?: string; dataDir?: string }): Promise<number> {
  const ok = (text: string) => console.log(`${chalk.green('✓')} ${text}`);
  const missing = (text: string, fix: string) => console.log(`${chalk.yellow('·')} ${text}\n    ${chalk.dim('→ ' + fix)}`);
  const tf = await import('@tensorflow/tfjs');
  console.log(chalk.bold(`runner doctor — Node ${process.version}, TensorFlow.js ${tf.version.tfjs}`));

  console.log(chalk.bold('\nbackends'));
  for (const probe of await probeNative()) {
    if (probe.loaded) {
      const { activateBackend } = await import('../backend/select.js');
      const info = await activateBackend('tensorflow');
      if (info.gpu) ok(`tensorflow via ${probe.package}: GPU in use`);
      else missing(`tensorflow via ${probe.package}: loads, but libtensorflow sees no GPU and runs on the CPU`, 'install CUDA 11.2 and cuDNN 8.1 for tfjs-node-gpu 4.22, then check with nvidia-smi');
    } else {
      const fix = probe.package.endsWith('-gpu')
        ? 'npm install @tensorflow/tfjs-node-gpu@4.22.0 on a machine with internet and CUDA 11.2 / cuDNN 8.1 (its install downloads libtensorflow)'
        : 'or, without a GPU, npm install @tensorflow/tfjs-node@4.22.0 (libtensorflow on the CPU, multi-threaded; also needs internet at install time)';
      missing(`${probe.package}: ${probe.problem}`, fix);
    }
  }
  ok('wasm: bundled (@tensorflow/tfjs-backend-wasm), with the runner\'s training kernels; one core per trial, trials run in parallel processes');
  ok('cpu: bundled; pure JavaScript, slow, used only when asked for (--backend cpu)');

  console.log(chalk.bold('\ndataset'));
  const search = { dataDir: options.dataDir };
  const found = locateDataset(search);
  if (found && 'missingExplicit' in found) {
    // A named place wins over every other, so a copy elsewhere does not help until the name is dropped or fixed.
    const { dir, via } = found.missingExplicit;
    const elsewhere = locateAfter(search, found.missingExplicit);
    missing(
      `Fashion-MNIST not found in ${dir} (${via}): it needs the four IDX .gz files or the two Kaggle CSV files`,
      elsewhere ? `without ${via} it would be found in ${elsewhere.dir} (${elsewhere.via})` : 'put the files there, or drop it and apt-get install dataset-fashion-mnist',
    );
  } else if (found) ok(`Fashion-MNIST (${found.format}) in ${found.dir} — ${found.via}`);
  else {
    missing('Fashion-MNIST not found', 'apt-get install dataset-fashion-mnist, or --data-dir / FASHION_MNIST_DIR, or let the first sweep download it');
    for (const place of searchPath(search)) console.log(`    searched ${place.dir} (${place.via})`);
  }

  console.log(chalk.bold('\ndatabase'));
  const db = databasePath(options.db);
  if (existsSync(db)) {
    const { RunStore } = await import('../store/run-store.js');
    const store = new RunStore(db);
    const counts = store.counts();
    store.close();
    ok(`${db}: ${counts.runs} runs in ${counts.sweeps} sweeps`);
  } else missing(`${db} does not exist yet`, 'it is created by the first `runner sweep`; --db PATH or RUNNER_DB choose another');
  return 0;
}
