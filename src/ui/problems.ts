import chalk from 'chalk';
import { readFileSync } from 'node:fs';
import type { Problem } from '../errors.js';
import { plural } from './format.js';

/** The message of an error carrying every problem found in one file. */
export function problemsIn(file: string, problems: readonly Problem[]): string {
  return `${file}: ${plural(problems.length, 'problem')}`;
}

/**
 * `experiments/x.yaml:12:7 model.layers[3].units: must be ...` followed by the numbered source line
 * and a caret, then the hint: everything needed to fix the file without opening a manual.
 */
export function formatProblem(problem: Problem): string {
  const where = [problem.file, problem.line, problem.line ? problem.column : undefined].filter((p) => p !== undefined).join(':');
  const lines = [`${chalk.bold(where)} ${problem.path ? chalk.cyan(problem.path) + ': ' : ''}${chalk.red(problem.message)}`];
  const snippet = problem.line ? sourceLine(problem.file, problem.line) : undefined;
  if (snippet !== undefined) {
    const gutter = `${problem.line} | `;
    lines.push(chalk.dim(gutter) + snippet);
    if (problem.column) lines.push(' '.repeat(gutter.length + problem.column - 1) + chalk.red('^'));
  }
  if (problem.inheritedBy) lines.push(`${chalk.yellow('inherited by')} ${problem.inheritedBy.join(', extended by ')}`);
  if (problem.hint) lines.push(`${chalk.yellow('hint:')} ${problem.hint}`);
  return lines.join('\n');
}

const cache = new Map<string, string[]>();

function sourceLine(file: string, line: number): string | undefined {
  try {
    if (!cache.has(file)) cache.set(file, readFileSync(file, 'utf8').split('\n'));
    return cache.get(file)![line - 1]?.replace(/\t/g, '→');
  } catch {
    return undefined;
  }
}
