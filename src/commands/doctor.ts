import chalk from 'chalk';
import { existsSync } from 'node:fs';
import type { Probe } from '../backend/registry.js';
import { findVulkan } from '../backend/webgpu/vulkan.js';
import { locateAfter, locateDataset, searchPath } from '../data/locate.js';
import { UserError } from '../errors.js';
import { RunStore } from '../store/run-store.js';
import { databasePath } from './run-database.js';
import { plural } from '../ui/format.js';

/** What is installed and usable, and what to do about each missing piece. */
export async function doctorCommand(options: { db?: string; dataDir?: string; gpu?: string }): Promise<number> {
  const ok = (text: string) => console.log(`${chalk.green('✓')} ${text}`);
  const missing = (text: string, fix: string) => console.log(`${chalk.yellow('·')} ${text}\n    ${chalk.dim('→ ' + fix)}`);
  const tf = await import('@tensorflow/tfjs');
  console.log(chalk.bold(`runner doctor — Node ${process.version}, TensorFlow.js ${tf.version.tfjs}`));

  console.log(chalk.bold('\nbackends'));
  const { BACKENDS, VULKAN_FIX } = await import('../backend/registry.js');
  const { probeBackend } = await import('../backend/probe.js');
  const probes = new Map<string, Probe>();
  for (const entry of BACKENDS) {
    const probe = await probeBackend(entry.name, { gpu: options.gpu }, true);
    probes.set(entry.name, probe);
    const line = `${entry.name}: ${probe.detail}${probe.gpu ? ' — GPU' : ''}`;
    if (probe.usable && (probe.gpu || !probe.fix)) ok(line);
    else missing(line, probe.fix ?? entry.summary);
    if (entry.name === 'webgpu' && process.platform === 'linux') describeVulkan(ok, missing, VULKAN_FIX);
  }
  const { autoChoice } = await import('../backend/select.js');
  console.log(`  auto → ${(await autoChoice(async (name) => probes.get(name)!)).reason}`);

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
  if (!existsSync(db)) {
    missing(`${db} does not exist yet`, 'it is created by the first `runner sweep`; --db PATH or RUNNER_DB choose another');
    return 0;
  }
  const problem = await databaseProblem(db, ok);
  if (!problem) return 0;
  console.log(`${chalk.red('✗')} ${problem}`);
  // Unlike a missing backend, an unusable database stops every command that reads runs, so the exit code says so.
  return 2;
}

/** Opens the database read-only, as the reading commands do, checks its structure and says what it holds, or what is wrong with it. */
async function databaseProblem(db: string, ok: Say): Promise<string | undefined> {
  let store: RunStore;
  try {
    store = new RunStore(db, { readonly: true });
  } catch (error) {
    if (error instanceof UserError) return error.message;
    throw error;
  }
  try {
    const damage = store.damage();
    if (damage.length) return `${db} is damaged; SQLite's check found:\n    ${damage.join('\n    ')}\n    ${chalk.dim(`→ move it away and start a new database, or restore a copy; \`sqlite3 ${db} .recover\` may save what is left of it`)}`;
    const counts = store.counts();
    ok(`${db}: ${plural(counts.runs, 'run')} in ${plural(counts.sweeps, 'sweep')}, structure checked`);
    return undefined;
  } catch (error) {
    const explained = store.asUserError(error);
    if (explained instanceof UserError) return explained.message;
    throw explained;
  } finally {
    store.close();
  }
}

type Say = (text: string) => void;
type SayMissing = (text: string, fix: string) => void;

/** The pieces Dawn needs under Vulkan, so that "no adapter" comes with what exactly is missing. */
function describeVulkan(ok: Say, missing: SayMissing, driverFix: string): void {
  const vulkan = findVulkan();
  if (vulkan.loader) ok(`  Vulkan loader: ${vulkan.loader}`);
  else missing('  Vulkan loader libvulkan.so.1: not found', 'apt-get install libvulkan1 (Fedora: vulkan-loader)');
  if (vulkan.drivers.length === 0) {
    missing('  Vulkan drivers: none found', driverFix);
  }
  for (const driver of vulkan.drivers) {
    const from = vulkan.driversFrom ? ` (from ${vulkan.driversFrom})` : '';
    ok(`  Vulkan driver: ${driver.manifest}${from} → ${driver.library ?? 'unreadable manifest'}`);
  }
}
