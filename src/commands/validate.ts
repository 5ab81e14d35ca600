import chalk from 'chalk';
import { Document, isMap, isSeq, visit } from 'yaml';
import { parseOverride } from '../config/load-experiment.js';
import type { ResolvedExperiment } from '../config/resolved.js';
import { experimentSchema } from '../config/schema.js';
import { parseSweepFlag } from '../config/sweep-flag.js';
import { UserError, type Problem } from '../errors.js';
import Table from 'cli-table3';
import { validateExperimentFile, type CheckedTrials } from '../sweep/checked-trials.js';
import { plural } from '../ui/format.js';
import { formatProblem, problemsIn } from '../ui/problems.js';
import { COMPACT_TABLE } from '../ui/terminal-style.js';

export interface ValidateOptions {
  set?: string[];
  sweep?: string[];
  maxTrials?: number;
  maxMemory?: number;
  summary?: boolean;
  print?: boolean;
}

/**
 * Checks every file, prints every problem of every file, and a summary line. Exit 2 when any is invalid.
 * With --print, stdout holds only the resolved experiments (YAML), so that it can be saved as a file.
 */
export function validateCommand(files: string[], options: ValidateOptions): number {
  const overrides = (options.set ?? []).map(parseOverride);
  const sweeps = (options.sweep ?? []).map(parseSweepFlag);
  const report = options.print ? console.error : console.log;
  let valid = 0;
  for (const file of files) {
    try {
      const checked = validateExperimentFile(file, overrides, { sweeps, maxTrials: options.maxTrials, maxMemory: options.maxMemory });
      valid++;
      report(`${chalk.green('✓')} ${file}: valid, ${plural(checked.trials.length, 'trial')}`);
      if (options.summary) report(renderSummaries(checked.summaries));
      if (options.print) console.log(`${valid > 1 ? '---\n' : ''}# ${file}, resolved\n${resolvedYaml(checked.loaded.resolved)}`);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      const problems: Problem[] = error.problems.length ? error.problems : [{ file, message: error.message }];
      console.error(`${chalk.red('✗')} ${problemsIn(file, problems)}`);
      for (const problem of problems) console.error(formatProblem(problem) + '\n');
    }
  }
  const line = `${valid} of ${plural(files.length, 'file')} valid`;
  report(valid === files.length ? chalk.green(line) : chalk.red(line));
  return valid === files.length ? 0 : 2;
}

/**
 * The experiment as one self-contained file: top-level fields in the schema's order, layers and augmentations one
 * per line as experiment files write them. Saved, it validates and runs the same trials.
 */
function resolvedYaml(resolved: ResolvedExperiment): string {
  const fields = Object.keys(experimentSchema.properties!).filter((key) => key in resolved);
  const ordered = Object.fromEntries(fields.map((key) => [key, resolved[key as keyof ResolvedExperiment]]));
  const doc = new Document(ordered);
  visit(doc, {
    Seq(_, seq, path) {
      const parent = path[path.length - 1];
      const key = parent && 'key' in parent ? String(parent.key) : '';
      if (seq.items.every((item) => !isMap(item) && !isSeq(item))) seq.flow = true;
      if (key === 'layers' || key === 'augment') for (const item of seq.items) if (isMap(item)) item.flow = true;
    },
  });
  return doc.toString({ lineWidth: 0 });
}

/** Keras's model.summary(): each layer's output shape and parameter count, per distinct model of the file. */
function renderSummaries(summaries: CheckedTrials['summaries']): string {
  return summaries
    .map(({ label, layers }) => {
      const table = new Table({ head: ['#', 'layer', 'type', 'output shape', 'parameters'].map((h) => chalk.bold(h)), style: COMPACT_TABLE });
      for (const l of layers) table.push([l.index, l.name, l.type, `(${l.outputShape.map((d) => d ?? 'None').join(', ')})`, l.parameters.toLocaleString('en-US')]);
      const total = layers.reduce((sum, l) => sum + l.parameters, 0);
      return `${chalk.bold(label)}\n${table.toString()}\ntotal parameters: ${total.toLocaleString('en-US')}\n`;
    })
    .join('\n');
}
