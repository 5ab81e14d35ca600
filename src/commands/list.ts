import Table from 'cli-table3';
import chalk from 'chalk';
import type { RunStatus } from '../store/run-store.js';
import { duration, percent } from '../ui/format.js';
import { openExistingStore } from './report.js';
import { parseTagFilter } from './tag.js';

export interface ListOptions {
  status?: RunStatus;
  experiment?: string;
  tag?: string[];
  json?: boolean;
  db?: string;
}

const COLOUR: Record<RunStatus, (s: string) => string> = {
  completed: chalk.green,
  running: chalk.cyan,
  failed: chalk.red,
  diverged: chalk.yellow,
  interrupted: chalk.yellow,
};

/** Every recorded run, oldest first, whatever its status. */
export function listCommand(options: ListOptions): number {
  const store = openExistingStore(options.db);
  try {
    const runs = store.runs({ status: options.status, experiment: options.experiment, tags: parseTagFilter(options.tag) });
    if (options.json) {
      console.log(JSON.stringify(runs, null, 2));
      return 0;
    }
    const table = new Table({ head: ['run', 'experiment', 'params', 'status', 'test acc', 'epochs', 'time', 'backend', 'branch', 'started', 'tags'].map((h) => chalk.bold(h)), style: { head: [], border: [], compact: true } });
    for (const r of runs) {
      const params = Object.entries(r.params).map(([k, v]) => `${k.split('.').pop()}=${JSON.stringify(v)}`).join(' ');
      table.push([r.id, r.experiment, params, COLOUR[r.status](r.status), percent(r.testAccuracy), r.epochsDone, duration(r.seconds), r.backend ?? '', r.git.branch ?? '', r.startedAt.replace('T', ' ').slice(0, 19), Object.entries(r.tags).map(([k, v]) => `${k}=${v}`).join(' ')]);
    }
    console.log(runs.length ? table.toString() : 'No runs recorded yet.');
    return 0;
  } finally {
    store.close();
  }
}
