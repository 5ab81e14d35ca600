import type { BackendRequest } from '../backend/select.js';
import { DEFAULT_MAX_MEMORY } from '../model/cost.js';
import { requiredQueueAddress } from '../sweep/queue/address.js';
import { checkReachable } from '../sweep/queue/connection.js';
import { runQueueWorker } from '../sweep/queue/worker.js';
import { STALL_MS } from '../sweep/trial-process.js';
import { secondsFromEnvironment } from './options.js';
import { stopOnSignals } from './stop-signals.js';

export interface WorkerCommandOptions {
  queue?: string;
  concurrency?: number;
  backend?: BackendRequest;
  gpu?: string;
  dataDir?: string;
  maxMemory?: number;
}

/** BullMQ's default: a worker that stops renewing its job's lock for this long loses the job to another worker. */
const LOCK_SECONDS = 30;

/** `runner worker --queue URL`: trains trials that coordinators (`runner sweep --queue`) enqueue, until Ctrl-C or SIGTERM. */
export async function workerCommand(options: WorkerCommandOptions): Promise<number> {
  const address = requiredQueueAddress(options.queue);
  // Shorter locks are for tests that kill workers: a dead worker's job goes to another that much sooner.
  const lockSeconds = secondsFromEnvironment('RUNNER_QUEUE_LOCK_SECONDS', { atLeast: 1 }) ?? LOCK_SECONDS;
  await checkReachable(address);
  // A second signal exits at once: running trials are killed with the worker, and BullMQ's stalled check re-queues them.
  const stop = stopOnSignals();
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
    stop.release();
  }
}
