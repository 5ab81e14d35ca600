import chalk from 'chalk';
import { dirname } from 'node:path';
import type { BackendRequest } from '../backend/select.js';
import { parseOverride } from '../config/load-experiment.js';
import Table from 'cli-table3';
import { existsSync } from 'node:fs';
import { activateBackend, chooseBackend } from '../backend/select.js';
import { buildModel } from '../model/build.js';
import { estimateDuration } from '../sweep/estimate.js';
import { defaultConcurrency, planSweep, runSweep, trialLabel } from '../sweep/run-sweep.js';
import { RunStore } from '../store/run-store.js';
import { duration } from '../ui/format.js';
import { createSweepProgress } from '../ui/sweep-progress.js';
import { databasePath } from './options.js';

export interface SweepCommandOptions {
  set?: string[];
  backend?: BackendRequest;
  concurrency?: number;
  repeat?: number;
  force?: boolean;
  maxTrials?: number;
  dryRun?: boolean;
  db?: string;
  dataDir?: string;
}

export async function sweepCommand(files: string[], options: SweepCommandOptions): Promise<number> {
  const overrides = (options.set ?? []).map(parseOverride);
  if (options.dryRun) return planCommand(files, options);
  const dbPath = databasePath(options.db);
  const stop = new AbortController();
  let signals = 0;
  const onSignal = () => {
    // A second Ctrl-C means "now": the children are killed and the runs stay marked interrupted on the next start.
    if (++signals > 1) process.exit(130);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const summary = await runSweep(
      {
        files,
        overrides,
        backend: options.backend,
        concurrency: options.concurrency,
        force: Boolean(options.force),
        repeat: options.repeat,
        maxTrials: options.maxTrials,
        dbPath,
        dataDir: options.dataDir,
        runsDir: dirname(dbPath),
        command: ['runner', ...process.argv.slice(2)].join(' '),
      },
      createSweepProgress(),
      stop.signal,
    );
    const { counts } = summary;
    const parts = [`${counts.completed} completed`];
    if (summary.skipped) parts.push(`${summary.skipped} skipped (already completed)`);
    if (counts.diverged) parts.push(chalk.yellow(`${counts.diverged} diverged`));
    if (counts.failed) parts.push(chalk.red(`${counts.failed} failed`));
    if (counts.interrupted) parts.push(chalk.yellow(`${counts.interrupted} interrupted`));
    if (summary.notStarted) parts.push(`${summary.notStarted} not started`);
    console.error(`sweep: ${parts.join(', ')}; database ${dbPath}`);
    if (summary.interrupted) console.error('Run the same command again to resume: completed trials are skipped.');
    if (summary.interrupted) return 130;
    return counts.failed || counts.diverged ? 1 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** `runner plan` and `runner sweep --dry-run`: every trial with its varied parameters, size and expected duration; nothing trained. */
export async function planCommand(files: string[], options: SweepCommandOptions): Promise<number> {
  const { trials, backend: requested } = planSweep({ files, overrides: (options.set ?? []).map(parseOverride), repeat: options.repeat, maxTrials: options.maxTrials });
  const backend = await chooseBackend(options.backend ?? requested);
  await activateBackend('cpu');
  const dbPath = databasePath(options.db);
  const timings = existsSync(dbPath) ? withStore(dbPath, (store) => store.epochTimings()) : [];
  const table = new Table({ head: ['trial', 'hash', 'parameters', 'epochs', 'batch', 'estimate'].map((h) => chalk.bold(h)), style: { head: [], border: [], compact: true } });
  let total = 0;
  let unknown = 0;
  for (const trial of trials) {
    const model = buildModel(trial.config);
    const params = model.countParams();
    model.dispose();
    const estimate = estimateDuration(trial, timings, backend.name);
    if (estimate) total += estimate.seconds;
    else unknown++;
    table.push([trialLabel(trial), trial.hash, params.toLocaleString('en-US'), trial.config.train.epochs, trial.config.train.batchSize, estimate ? `${duration(estimate.seconds)} (${estimate.basis})` : chalk.dim('not measured yet')]);
  }
  console.log(table.toString());
  const concurrency = options.concurrency ?? defaultConcurrency(backend.name);
  console.log(
    `${trials.length} trial${trials.length === 1 ? '' : 's'} on ${backend.name}, ${concurrency} at a time` +
      (total ? `; measured trials take about ${duration(total / concurrency)} of wall time` : '') +
      (unknown ? `; ${unknown} without a measurement` : ''),
  );
  return 0;
}

function withStore<T>(path: string, use: (store: RunStore) => T): T {
  const store = new RunStore(path);
  try {
    return use(store);
  } finally {
    store.close();
  }
}
