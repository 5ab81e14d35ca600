import chalk from 'chalk';
import { dirname } from 'node:path';
import type { BackendRequest } from '../backend/select.js';
import { parseOverride } from '../config/load-experiment.js';
import { parseSweepFlag } from '../config/sweep-flag.js';
import { planTrials } from '../sweep/plan.js';
import { runSweep } from '../sweep/run-sweep.js';
import { renderPlan } from '../ui/render-plan.js';
import { createSweepProgress } from '../ui/sweep-progress.js';
import { databasePath } from './options.js';

export interface SweepCommandOptions {
  set?: string[];
  sweep?: string[];
  backend?: BackendRequest;
  gpu?: string;
  concurrency?: number;
  repeat?: number;
  force?: boolean;
  maxTrials?: number;
  dryRun?: boolean;
  db?: string;
  dataDir?: string;
}

export async function sweepCommand(files: string[], options: SweepCommandOptions): Promise<number> {
  if (options.dryRun) return planCommand(files, options);
  const overrides = (options.set ?? []).map(parseOverride);
  const sweeps = (options.sweep ?? []).map(parseSweepFlag);
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
        sweeps,
        backend: options.backend,
        gpu: options.gpu,
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
    if (summary.interrupted || counts.interrupted) console.error('Run the same command again to resume: completed trials are skipped.');
    if (summary.interrupted) return 130;
    // A trial killed from outside left work undone: not a success, though a re-run will finish it.
    return counts.failed || counts.diverged || counts.interrupted ? 1 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** `runner plan` and `runner sweep --dry-run`: every trial with its varied parameters, size and expected duration; nothing trained. */
export async function planCommand(files: string[], options: SweepCommandOptions): Promise<number> {
  const plan = await planTrials({
    files,
    overrides: (options.set ?? []).map(parseOverride),
    sweeps: (options.sweep ?? []).map(parseSweepFlag),
    repeat: options.repeat,
    maxTrials: options.maxTrials,
    backend: options.backend,
    gpu: options.gpu,
    concurrency: options.concurrency,
    force: Boolean(options.force),
    dbPath: databasePath(options.db),
  });
  console.log(renderPlan(plan));
  return 0;
}
