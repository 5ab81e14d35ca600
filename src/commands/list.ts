import Table from 'cli-table3';
import chalk from 'chalk';
import type { RunStatus } from '../store/run-store.js';
import { duration, percent } from '../ui/format.js';
import { openExistingStore } from './report.js';

export interface ListOptions {
  status?: RunStatus;
  experiment?: string;
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
    const runs = store.runs({ status: options.status, experiment: options.experiment });
    if (options.json) {
      console.log(JSON.stringify(runs.map((r) => ({ ...r, config_json: undefined, config: JSON.parse(r.config_json), params: JSON.parse(r.params_json) })), null, 2));
      return 0;
    }
    const table = new Table({ head: ['run', 'experiment', 'params', 'status', 'test acc', 'epochs', 'time', 'backend', 'branch', 'started'].map((h) => chalk.bold(h)), style: { head: [], border: [], compact: true } });
    for (const r of runs) {
      const params = Object.entries(JSON.parse(r.params_json) as Record<string, unknown>).map(([k, v]) => `${k.split('.').pop()}=${JSON.stringify(v)}`).join(' ');
      table.push([r.id, r.experiment, params, COLOUR[r.status](r.status), percent(r.test_accuracy), r.epochs_done, duration(r.seconds), r.backend ?? '', r.git_branch ?? '', r.started_at.replace('T', ' ').slice(0, 19)]);
    }
    console.log(runs.length ? table.toString() : 'No runs recorded yet.');
    return 0;
  } finally {
    store.close();
  }
}
