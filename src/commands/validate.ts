import chalk from 'chalk';
import { loadExperiment, parseOverride } from '../config/load-experiment.js';
import { UserError, type Problem } from '../errors.js';
import { expandTrials } from '../sweep/expand.js';
import { formatProblem } from '../ui/problems.js';

export interface ValidateOptions {
  set?: string[];
  maxTrials?: number;
}

/** Checks every file, prints every problem of every file, and a summary line. Exit 2 when any is invalid. */
export function validateCommand(files: string[], options: ValidateOptions): number {
  const overrides = (options.set ?? []).map(parseOverride);
  let valid = 0;
  for (const file of files) {
    try {
      const trials = expandTrials(loadExperiment(file, overrides), { maxTrials: options.maxTrials });
      valid++;
      console.log(`${chalk.green('✓')} ${file}: valid, ${trials.length} trial${trials.length === 1 ? '' : 's'}`);
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
