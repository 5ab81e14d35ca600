import chalk from 'chalk';
import { isLoopback, startDashboard } from '../dashboard/server.js';
import { UserError } from '../errors.js';
import { openStoreForReading } from './run-database.js';

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
  const store = openStoreForReading(options.db);
  const { path } = store;
  try {
    const dashboard = await startDashboard({ store, host: options.host, port: options.port, dataDir: options.dataDir }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') throw new UserError(`port ${options.port} on ${options.host} is taken: pick another with --port, or --port 0 for any free one`);
      if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') throw new UserError(`--host ${options.host} is not an address of this machine`);
      // The first page's answers are computed before listening: a damaged database shows here.
      throw store.asUserError(error);
    });
    if (store.isSnapshot) {
      console.error(
        chalk.yellow(
          `warning: ${path} is shown as it was at start, without live updates: it is read from a copy in memory, because its schema is older ` +
            '(a command that writes it, such as sweep or tag, upgrades it: then start runner ui again) or SQLite may not create its lock file beside it',
        ),
      );
    }
    if (!isLoopback(options.host)) {
      console.error(chalk.yellow(`warning: listening on ${options.host}, not loopback: anyone who can reach this machine can read every run in ${path}`));
    }
    // Listening for the signals before the URL is out: whoever reads it may stop the server at once.
    const stopped = new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    console.log(`runner ui: ${dashboard.url} (database ${path}, read-only; Ctrl-C stops)`);
    await stopped;
    await dashboard.close();
    return 130;
  } finally {
    store.close();
  }
}
