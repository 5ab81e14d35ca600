import chalk, { type ChalkInstance } from 'chalk';
import type { RunStatus } from '../run-status.js';

/** A run's status in the terminal: `list`, `show`, and the sweep's progress and summary. The page's colours are its CSS. */
export const STATUS_COLOUR: Record<RunStatus, ChalkInstance> = {
  completed: chalk.green,
  running: chalk.cyan,
  failed: chalk.red,
  diverged: chalk.yellow,
  interrupted: chalk.yellow,
};

/** cli-table3's style for every terminal table: no colours of its own (the renderers own colour), no rules between rows. */
export const COMPACT_TABLE = { head: [] as string[], border: [] as string[], compact: true };
