import Table from 'cli-table3';
import chalk from 'chalk';
import type { RunStatus } from '../run-status.js';
import type { Run } from '../store/run-store.js';
import { duration, paramLabels, percent, tagLabels, timestamp } from '../ui/format.js';
import { COMPACT_TABLE, STATUS_COLOUR } from '../ui/terminal-style.js';
import { readingRuns } from './run-database.js';
import { parseTagFilter } from './tag.js';

export interface ListOptions {
  status?: RunStatus;
  experiment?: string;
  tag?: string[];
  json?: boolean;
  db?: string;
}

/** Every recorded run, oldest first, whatever its status. */
export function listCommand(options: ListOptions): Promise<number> {
  return readingRuns(options.db, (store) => {
    const runs = store.runs({ status: options.status, experiment: options.experiment, tags: parseTagFilter(options.tag) });
    if (options.json) {
      console.log(JSON.stringify(runs, null, 2));
      return 0;
    }
    const table = new Table({ head: ['run', 'experiment', 'params', 'status', 'test acc', 'epochs', 'time', 'backend', 'branch', 'started', 'tags'].map((h) => chalk.bold(h)), style: COMPACT_TABLE });
    for (const r of runs) {
      const params = paramLabels(r.params).join(' ');
      table.push([r.id, r.experiment, params, statusCell(r), percent(r.testAccuracy), r.epochsDone, duration(r.seconds), r.backend ?? '', r.git.branch ?? '', timestamp(r.startedAt), tagLabels(r.tags)]);
    }
    console.log(runs.length ? table.toString() : 'No runs recorded yet.');
    return 0;
  });
}

/** A `running` run nobody renews any more is not training: say so, or it looks like work in progress forever. */
function statusCell(run: Run): string {
  if (!run.stale) return STATUS_COLOUR[run.status](run.status);
  const why = run.leaseExpiresAt ? `no heartbeat, lease expired ${duration((Date.now() - Date.parse(run.leaseExpiresAt)) / 1000)} ago` : 'left by a runner older than leases';
  return chalk.yellow(`running (stale: ${why})`);
}
