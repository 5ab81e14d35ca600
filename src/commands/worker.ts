import type { BackendRequest } from '../backend/select.js';
import { UserError } from '../errors.js';
import { DEFAULT_MAX_MEMORY } from '../model/cost.js';
import { requiredQueueAddress } from '../sweep/queue/address.js';
import { checkReachable } from '../sweep/queue/connection.js';
import { runQueueWorker } from '../sweep/queue/worker.js';

export interface WorkerCommandOptions {
  queue?: string;
  concurrency?: number;
  backend?: BackendRequest;
  gpu?: string;
  dataDir?: string;
  maxMemory?: number;
}

/** As for a local sweep: a trial hung in a deadlock or stopped (SIGSTOP) would otherwise hold its slot forever. */
const STALL_MS = 10 * 60_000;

/** BullMQ's default: a worker that stops renewing its job's lock for this long loses the job to another worker. */
const LOCK_SECONDS = 30;

/** `runner worker --queue URL`: trains trials that coordinators (`runner sweep --queue`) enqueue, until Ctrl-C or SIGTERM. */
export async function workerCommand(options: WorkerCommandOptions): Promise<number> {
  const address = requiredQueueAddress(options.queue);
  const lockSeconds = lockSecondsFromEnvironment();
  await checkReachable(address);
  const stop = new AbortController();
  let signals = 0;
  const onSignal = () => {
    // A second signal means "now": running trials are killed with the worker, and BullMQ's stalled check re-queues them.
    if (++signals > 1) process.exit(130);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const log = (line: string) => console.log(`${new Date().toISOString().slice(11, 19)} ${line}`);
  try {
    const summary = await runQueueWorker(
      {
        address,
        concurrency: options.concurrency ?? 1,
        backend: options.backend,
        gpu: options.gpu,
        dataDir: options.dataDir,
        maxMemory: options.maxMemory ?? DEFAULT_MAX_MEMORY,
        stallMs: STALL_MS,
        lockSeconds,
        log,
      },
      stop.signal,
    );
    log(`worker stopped: ${summary.trained} trained, ${summary.failed} failed, ${summary.handedBack} handed back to the queue`);
    return 130;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** RUNNER_QUEUE_LOCK_SECONDS shortens how soon a dead worker's job goes to another, for tests that kill workers. */
function lockSecondsFromEnvironment(): number {
  const text = process.env.RUNNER_QUEUE_LOCK_SECONDS;
  if (text === undefined || text === '') return LOCK_SECONDS;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds < 1) throw new UserError(`RUNNER_QUEUE_LOCK_SECONDS must be a number of seconds, at least 1, got ${JSON.stringify(text)}`);
  return seconds;
}
