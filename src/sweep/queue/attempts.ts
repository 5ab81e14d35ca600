import { printable } from './printable.js';

/**
 * Each time a worker starts training a job it logs `started on host:pid` in the job's log, and `handed back by
 * host:pid` when it was shut down and put the job back. An attempt followed by neither its end nor a hand-back was
 * lost: its worker stopped responding (killed, frozen, cut off) and BullMQ's stalled-job check gave the job to another.
 */
export const STARTED = 'started on ';
export const HANDED_BACK = 'handed back by ';

/**
 * `attempt 1 on host-a:12 lost (worker stopped responding)`, `attempt 2 on host-b:34`: one entry per attempt, numbered.
 * Worker names come from the job's log, which anyone who can write to the queue can write: control characters go.
 */
export function attemptsOf(logs: readonly string[], lastLost: boolean): string[] {
  const attempts: string[] = [];
  logs.forEach((line, index) => {
    if (!line.startsWith(STARTED)) return;
    const next = logs[index + 1];
    const where = `attempt ${attempts.length + 1} on ${printable(line.slice(STARTED.length))}`;
    if (next?.startsWith(HANDED_BACK)) attempts.push(`${where} handed back (its worker was shut down)`);
    else if (next !== undefined || lastLost) attempts.push(`${where} lost (worker stopped responding)`);
    else attempts.push(where);
  });
  return attempts;
}
