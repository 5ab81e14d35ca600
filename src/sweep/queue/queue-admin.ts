import { Queue, type Job } from 'bullmq';
import type { QueueAddress } from './address.js';
import { connectionOf, QUEUE_NAME } from './connection.js';
import type { QueuedTrial } from './queued-trial.js';

/** One job as `runner queue status` lists it. */
export interface QueuedJobView {
  id: string;
  experiment: string;
  params: Record<string, unknown>;
  commit: string | null;
  /** The worker that holds it (`host:pid`), while running. */
  worker: string | null;
  /** Why it failed, for failed jobs. */
  error: string | null;
}

export interface QueueView {
  counts: { waiting: number; running: number; completed: number; failed: number };
  /** Connected workers, by name (`host:pid`). */
  workers: string[];
  running: QueuedJobView[];
  waiting: QueuedJobView[];
  failed: QueuedJobView[];
}

/** Jobs listed per state; the counts cover all of them. */
const LISTED = 20;
const WAITING = ['waiting', 'delayed', 'prioritized'] as const;

export async function queueView(address: QueueAddress): Promise<QueueView> {
  return withQueue(address, async (queue) => {
    const counts = await queue.getJobCounts('active', ...WAITING, 'completed', 'failed');
    // BullMQ names a worker's Redis clients `<prefix>:<queue>:w:<worker name>`; a worker holds several.
    const workers = (await queue.getWorkers()).map((client) => String(client.rawname ?? '').split(':w:')[1] ?? '').filter((name) => name !== '');
    const list = async (states: Parameters<Queue['getJobs']>[0]) => ((await queue.getJobs(states, 0, LISTED - 1, true)) as Job[]).map(view);
    return {
      counts: {
        waiting: WAITING.reduce((sum, state) => sum + (counts[state] ?? 0), 0),
        running: counts.active ?? 0,
        completed: counts.completed ?? 0,
        failed: counts.failed ?? 0,
      },
      workers: [...new Set(workers)].sort(),
      running: await list('active'),
      waiting: await list([...WAITING]),
      failed: await list('failed'),
    };
  });
}

/** Removes every job, running ones included (their workers' results are then dropped), and the queue's records. */
export async function clearQueue(address: QueueAddress): Promise<void> {
  await withQueue(address, (queue) => queue.obliterate({ force: true }));
}

/** Removes the jobs no worker has started. */
export async function drainQueue(address: QueueAddress): Promise<number> {
  return withQueue(address, async (queue) => {
    const counts = await queue.getJobCounts(...WAITING);
    await queue.drain(true);
    return WAITING.reduce((sum, state) => sum + (counts[state] ?? 0), 0);
  });
}

async function withQueue<T>(address: QueueAddress, action: (queue: Queue) => Promise<T>): Promise<T> {
  const queue = new Queue(QUEUE_NAME, { connection: connectionOf(address) });
  try {
    return await action(queue);
  } finally {
    await queue.close();
  }
}

function view(job: Job): QueuedJobView {
  const data = job.data as Partial<QueuedTrial>;
  return {
    id: job.id ?? '?',
    experiment: typeof data.experiment === 'string' ? data.experiment : '?',
    params: data.params && typeof data.params === 'object' ? data.params : {},
    commit: typeof data.commit === 'string' ? data.commit : null,
    worker: job.processedBy ?? null,
    error: job.failedReason || null,
  };
}
