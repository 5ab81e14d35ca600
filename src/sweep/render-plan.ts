import chalk from 'chalk';
import Table from 'cli-table3';
import { duration, plural } from '../ui/format.js';
import { COMPACT_TABLE } from '../ui/terminal-style.js';
import type { PlannedSearch, SweepPlanReport } from './plan.js';

/** The plan as a table (one row per trial) and one line of totals. */
export function renderPlan(plan: SweepPlanReport): string {
  const table = new Table({
    head: ['trial', 'hash', 'parameters', 'mult-adds/sample', 'epochs', 'batch', 'estimate'].map((h) => chalk.bold(h)),
    style: COMPACT_TABLE,
  });
  for (const row of plan.rows) {
    const { config } = row.trial;
    const estimate = row.done
      ? chalk.dim('completed (skipped)')
      : row.estimate
        ? `${duration(row.estimate.seconds)} (${row.estimate.basis})`
        : chalk.dim('not measured yet');
    const epochs = row.epochs === config.train.epochs ? config.train.epochs : `${row.epochs} of ${config.train.epochs}`;
    table.push([row.label, row.trial.hash, row.cost.params.toLocaleString('en-US'), row.cost.macsPerSample.toLocaleString('en-US'), epochs, config.train.batchSize, estimate]);
  }
  const todo = plan.rows.filter((r) => !r.done).length;
  const skipped = plan.rows.length - todo;
  const measured = todo - plan.unmeasured;
  const totals = [`${plural(plan.rows.length, 'trial')} on ${plan.backend.name}, ${plan.concurrency} at a time`];
  if (skipped) totals.push(`${skipped} already completed (skipped)`);
  if (measured) totals.push(`about ${duration(plan.wallSeconds)} of wall time for ${measured === todo ? 'all' : measured} to run`);
  if (plan.unmeasured) totals.push(`${plan.unmeasured} not measured yet (no completed run on ${plan.backend.name}${plan.backend.probe.adapter ? ` (${plan.backend.probe.adapter.device})` : ''} with training and scoring timed apart to estimate from)`);
  const searches = plan.searches.map(searchLine);
  return [table.toString(), ...searches, totals.join('; '), chalk.dim(`backend: ${plan.backend.reason}`)].join('\n');
}

/** What a random or ASHA search trains, against training every config it tries, and its grid, to the end. */
function searchLine(search: PlannedSearch): string {
  const time = search.seconds !== undefined && search.fullSeconds !== undefined ? `, about ${duration(search.seconds)} of training against ${duration(search.fullSeconds)}` : '';
  if (search.strategy === 'asha') return `${search.description}; the table lists its first rung${time}`;
  const grid = search.gridConfigs === undefined ? 'its distributions have no finite grid' : `the grid of its lists holds ${plural(search.gridConfigs, 'config')}`;
  return `${search.file}: random search, ${plural(search.configs, 'config')} sampled (${grid}): ${search.epochs.toLocaleString('en-US')} epochs${time ? `, about ${duration(search.seconds!)} of training` : ''}`;
}
