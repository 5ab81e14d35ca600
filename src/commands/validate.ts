import chalk from 'chalk';
import { parseOverride } from '../config/load-experiment.js';
import { UserError, type Problem } from '../errors.js';
import Table from 'cli-table3';
import { validateExperimentFile, type CheckedTrials } from '../sweep/checked-trials.js';
import { formatProblem } from '../ui/problems.js';

export interface ValidateOptions {
  set?: string[];
  maxTrials?: number;
  summary?: boolean;
}

/** Checks every file, prints every problem of every file, and a summary line. Exit 2 when any is invalid. */
export function validateCommand(files: string[], options: ValidateOptions): number {
  const overrides = (options.set ?? []).map(parseOverride);
  let valid = 0;
  for (const file of files) {
    try {
      const checked = validateExperimentFile(file, overrides, { maxTrials: options.maxTrials });
      valid++;
      console.log(`${chalk.green('✓')} ${file}: valid, ${checked.trials.length} trial${checked.trials.length === 1 ? '' : 's'}`);
      if (options.summary) console.log(renderSummaries(checked.summaries));
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      const problems: Problem[] = error.problems.length ? error.problems : [{ file, message: error.message }];
      console.error(`${chalk.red('✗')} ${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`);
      for (const problem of problems) console.error(formatProblem(problem) + '\n');
    }
  }
  const line = `${valid} of ${files.length} file${files.length === 1 ? '' : 's'} valid`;
  console.log(valid === files.length ? chalk.green(line) : chalk.red(line));
  return valid === files.length ? 0 : 2;
}

/** Keras's model.summary(): each layer's output shape and parameter count, per distinct model of the file. */
function renderSummaries(summaries: CheckedTrials['summaries']): string {
  return summaries
    .map(({ label, layers }) => {
      const table = new Table({ head: ['#', 'layer', 'type', 'output shape', 'parameters'].map((h) => chalk.bold(h)), style: { head: [], border: [], compact: true } });
      for (const l of layers) table.push([l.index, l.name, l.type, `(${l.outputShape.map((d) => d ?? 'None').join(', ')})`, l.parameters.toLocaleString('en-US')]);
      const total = layers.reduce((sum, l) => sum + l.parameters, 0);
      return `${chalk.bold(label)}\n${table.toString()}\ntotal parameters: ${total.toLocaleString('en-US')}\n`;
    })
    .join('\n');
}
