import chalk from 'chalk';
import ms from 'ms';
import type { BackendRequest } from '../backend/select.js';
import { parseOverride } from '../config/load-experiment.js';
import { parseSweepFlag } from '../config/sweep-flag.js';
import { planTrials } from '../sweep/plan.js';
import { UserError } from '../errors.js';
import { runsDirFor } from '../store/run-folders.js';
import { queueAddress } from '../sweep/queue/address.js';
import { checkReachable } from '../sweep/queue/connection.js';
import { LEASE_SECONDS, runSweep, type SweepSummary } from '../sweep/run-sweep.js';
import { createSweepProgress } from '../sweep/progress.js';
import { renderPlan } from '../sweep/render-plan.js';
import { plural } from '../ui/format.js';
import { STATUS_COLOUR } from '../ui/terminal-style.js';
import { secondsFromEnvironment } from './options.js';
import { databasePath } from './run-database.js';
import { stopOnSignals } from './stop-signals.js';

export interface SweepCommandOptions {
  set?: string[];
  sweep?: string[];
  backend?: BackendRequest;
  gpu?: string;
  concurrency?: number;
  repeat?: number;
  force?: boolean;
  maxTrials?: number;
  maxMemory?: number;
  dryRun?: boolean;
  db?: string;
  dataDir?: string;
  stallTimeout?: string;
  /** Redis URL of a queue whose workers train the trials (or RUNNER_QUEUE). */
  queue?: string;
}

export async function sweepCommand(files: string[], options: SweepCommandOptions): Promise<number> {
  if (options.dryRun) return planCommand(files, options);
  const overrides = (options.set ?? []).map(parseOverride);
  const sweeps = (options.sweep ?? []).map(parseSweepFlag);
  const dbPath = databasePath(options.db);
  const stallMs = options.stallTimeout === undefined ? undefined : stallTimeout(options.stallTimeout);
  // Shorter leases are for tests that kill a runner and must not wait half a minute for its rows.
  const leaseSeconds = secondsFromEnvironment('RUNNER_LEASE_SECONDS', { above: 0 });
  const queue = queueAddress(options.queue);
  // Before any row is claimed: a wrong address or password is the user's to fix, not a failed trial per row.
  if (queue) await checkReachable(queue);
  // A second Ctrl-C exits at once: the children are killed and the runs stay marked interrupted on the next start.
  const stop = stopOnSignals();
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
        maxMemory: options.maxMemory,
        dbPath,
        dataDir: options.dataDir,
        // The sweeps table keeps the command; a password in a --queue URL stays out of it.
        command: ['runner', ...process.argv.slice(2).map((arg) => (queue && options.queue && arg.includes(options.queue) ? arg.replace(options.queue, queue.shown) : arg))].join(' '),
        stallMs,
        leaseSeconds,
        queue,
      },
      createSweepProgress(),
      stop.signal,
    );
    console.error(`sweep: ${summaryLine(summary)}; database ${dbPath}, run folders ${runsDirFor(dbPath)}`);
    for (const line of summary.searches) console.error(`search: ${line}`);
    if (summary.databaseFailure) {
      console.error(chalk.red(`error: the run database failed mid-sweep: ${summary.databaseFailure}.`));
      if (summary.unrecorded) {
        console.error(`${plural(summary.unrecorded, 'trial')} could not be recorded as interrupted: ${summary.unrecorded === 1 ? 'its row stays' : 'their rows stay'} \`running\` until this runner's lease lapses (${leaseSeconds ?? LEASE_SECONDS} s), and the next sweep runs ${summary.unrecorded === 1 ? 'it' : 'them'} again.`);
      }
      console.error('Fix the database (free disk space, or stop whatever holds it locked), then run the same command again to resume: completed trials are skipped.');
      return 1;
    }
    if (summary.interrupted || summary.counts.interrupted) console.error('Run the same command again to resume: completed trials are skipped.');
    if (summary.runningElsewhere) console.error(`${plural(summary.runningElsewhere, 'trial')} ${summary.runningElsewhere === 1 ? 'is' : 'are'} being trained by another runner; run the same command again once it is done to pick up any it leaves unfinished.`);
    if (summary.interrupted) return 130;
    // A trial killed from outside left work undone: not a success, though a re-run will finish it. Trials another
    // runner is training are its work, and its exit code reports them.
    const { counts } = summary;
    return counts.failed || counts.diverged || counts.interrupted ? 1 : 0;
  } finally {
    stop.release();
  }
}

function summaryLine({ counts, skipped, runningElsewhere, notStarted }: SweepSummary): string {
  const parts = [`${counts.completed} completed`];
  if (skipped) parts.push(`${skipped} skipped (already completed)`);
  if (runningElsewhere) parts.push(`${runningElsewhere} running elsewhere`);
  for (const status of ['diverged', 'failed', 'interrupted'] as const) if (counts[status]) parts.push(STATUS_COLOUR[status](`${counts[status]} ${status}`));
  if (notStarted) parts.push(`${notStarted} not started`);
  return parts.join(', ');
}

/** --stall-timeout 90s, 10m: at least a second, since progress arrives every few batches. */
function stallTimeout(text: string): number {
  const millis = ms(text as ms.StringValue);
  if (typeof millis !== 'number' || !Number.isFinite(millis) || millis < 1000) {
    throw new UserError(`--stall-timeout ${text}: expected a duration of at least a second, such as 90s or 10m`);
  }
  return millis;
}

/** `runner plan` and `runner sweep --dry-run`: every trial with its varied parameters, size and expected duration; nothing trained. */
export async function planCommand(files: string[], options: SweepCommandOptions): Promise<number> {
  const plan = await planTrials({
    files,
    overrides: (options.set ?? []).map(parseOverride),
    sweeps: (options.sweep ?? []).map(parseSweepFlag),
    repeat: options.repeat,
    maxTrials: options.maxTrials,
    maxMemory: options.maxMemory,
    backend: options.backend,
    gpu: options.gpu,
    concurrency: options.concurrency,
    force: Boolean(options.force),
    dbPath: databasePath(options.db),
  });
  console.log(renderPlan(plan));
  return 0;
}
