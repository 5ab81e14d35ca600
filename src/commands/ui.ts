import chalk from 'chalk';
import { existsSync } from 'node:fs';
import { isLoopback, startDashboard } from '../dashboard/server.js';
import { UserError } from '../errors.js';
import { RunStore } from '../store/run-store.js';
import { databasePath } from './options.js';

export interface UiOptions {
  port: number;
  host: string;
  db?: string;
  dataDir?: string;
}

/**
 * `runner ui`: serves the dashboard over the run database, opened read-only, until SIGINT or SIGTERM; then it
 * closes the server and the database and exits 130, as an interrupted sweep does.
 */
export async function uiCommand(options: UiOptions): Promise<number> {
  const path = databasePath(options.db);
  if (!existsSync(path)) throw new UserError(`no run database at ${path}: run \`runner sweep FILES\` first, or point at one with --db PATH / RUNNER_DB`);
  const store = new RunStore(path, { readonly: true });
  try {
    const dashboard = await startDashboard({ store, host: options.host, port: options.port, dataDir: options.dataDir }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') throw new UserError(`port ${options.port} on ${options.host} is taken: pick another with --port, or --port 0 for any free one`);
      if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') throw new UserError(`--host ${options.host} is not an address of this machine`);
      throw error;
    });
    if (!isLoopback(options.host)) {
      console.error(chalk.yellow(`warning: listening on ${options.host}, not loopback: anyone who can reach this machine can read every run in ${path}`));
    }
    console.log(`runner ui: ${dashboard.url} (database ${path}, read-only; Ctrl-C stops)`);
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await dashboard.close();
    return 130;
  } finally {
    store.close();
  }
}
