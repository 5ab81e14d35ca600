import { confirm } from './confirm.js';
import { UserError } from '../errors.js';
import { requiredQueueAddress } from '../sweep/queue/address.js';
import { checkReachable } from '../sweep/queue/connection.js';
import { printable } from '../sweep/queue/printable.js';
import { clearQueue, drainQueue, queueView, type QueuedJobView } from '../sweep/queue/queue-admin.js';
import { plural } from '../ui/format.js';
import { trialLabel } from '../sweep/expand.js';

export interface QueueCommandOptions {
  queue?: string;
  yes?: boolean;
}

const ACTIONS = ['status', 'clear', 'drain'] as const;

/** `runner queue status|clear|drain`: what the queue holds and who works on it; clear empties it, drain removes waiting jobs. */
export async function queueCommand(action: string, options: QueueCommandOptions): Promise<number> {
  if (!(ACTIONS as readonly string[]).includes(action)) throw new UserError(`runner queue ${action}: expected one of ${ACTIONS.join(', ')}`);
  const address = requiredQueueAddress(options.queue);
  await checkReachable(address);
  if (action === 'status') {
    const view = await queueView(address);
    const { counts } = view;
    console.log(`queue ${address.shown}: ${counts.running} running, ${counts.waiting} waiting, ${counts.completed} completed, ${counts.failed} failed`);
    console.log(view.workers.length ? `workers (${view.workers.length}): ${printable(view.workers.join(', '))}` : 'workers: none connected');
    section('running', counts.running, view.running, (job) => `on ${job.worker ?? '?'}`);
    section('waiting', counts.waiting, view.waiting, (job) => (job.commit ? `for a worker on commit ${job.commit.slice(0, 12)}` : ''));
    section('failed', counts.failed, view.failed, (job) => job.error ?? '');
    return 0;
  }
  if (action === 'drain') {
    console.log(`Removed ${plural(await drainQueue(address), 'waiting job')} from ${address.shown}; running jobs go on.`);
    return 0;
  }
  if (!options.yes && !(await confirm(`Remove every job (running ones too) from the queue at ${address.shown}?`, 'not clearing the queue'))) {
    console.log('Nothing removed.');
    return 0;
  }
  await clearQueue(address);
  console.log(`Removed every job from ${address.shown}.`);
  return 0;
}

function section(title: string, count: number, jobs: QueuedJobView[], detail: (job: QueuedJobView) => string): void {
  if (count === 0) return;
  console.log(`${title} (${count}${count > jobs.length ? `, first ${jobs.length} shown` : ''}):`);
  // Everything shown here came from a job, which whoever can write to the queue may have written.
  for (const job of jobs) console.log(printable(`  ${job.id}  ${trialLabel(job)}  ${detail(job)}`).trimEnd());
}
