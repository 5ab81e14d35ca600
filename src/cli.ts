#!/usr/bin/env node
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import chalk from 'chalk';
import { RuntimeFailure, UserError } from './errors.js';
import { collect, positiveInteger } from './commands/options.js';
import { BACKEND_REQUESTS } from './backend/names.js';

/**
 * The command layer: parse arguments, call one function of the pipeline, map its errors to exit codes.
 * Commands import their modules lazily so that each loads only what it needs: TensorFlow.js only for those that build models (validate checks shapes with it).
 */
const program = new Command('runner')
  .description('Declarative experiment runner for image classifiers on Fashion-MNIST (TensorFlow.js + SQLite).')
  .showHelpAfterError()
  .exitOverride();

let commandExitCode = 0;
/** Commands return their exit code; commander's action type wants void. */
const exitWith =
  <A extends unknown[]>(command: (...args: A) => Promise<number>) =>
  async (...args: A): Promise<void> => {
    commandExitCode = await command(...args);
  };

const backendOption = () => new Option('--backend <name>', 'training backend (auto: a GPU backend if one is usable, else the best CPU one)').choices(BACKEND_REQUESTS);
const gpuOption = ['--gpu <name>', 'on a machine with several GPUs, train on the one whose adapter name, as its driver reports it, contains this (case-sensitive, e.g. H200)'] as const;
const setOption = ['--set <path=value>', 'override a field of every experiment, e.g. --set train.epochs=1 (repeatable)', collect] as const;
const intArg = (name: string) => (text: string) => {
  try {
    return positiveInteger(name)(text);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
};

program
  .command('validate')
  .description('check experiment files against the schema and each other; exit 2 when any is invalid')
  .argument('<files...>', 'experiment YAML files')
  .option(...setOption)
  .option('--max-trials <n>', 'largest grid allowed', intArg('--max-trials'))
  .option('--summary', "print each model's layers with output shapes and parameter counts")
  .action(exitWith(async (files: string[], options) => (await import('./commands/validate.js')).validateCommand(files, options)));

program
  .command('sweep')
  .description('run every trial of each file\'s sweep grid and record it in the database')
  .argument('<files...>', 'experiment YAML files')
  .option(...setOption)
  .addOption(backendOption())
  .option(...gpuOption)
  .option('--concurrency <n>', 'trials at once, each in its own process (default: one per core on CPU backends; on a GPU, what measurement showed best)', intArg('--concurrency'))
  .option('--repeat <n>', 'run each combination with n seeds', intArg('--repeat'))
  .option('--force', 're-run trials already completed on this branch')
  .option('--max-trials <n>', 'largest grid allowed (default 1000)', intArg('--max-trials'))
  .option('--dry-run', 'print the trials and exit without training')
  .option('--db <path>', 'run database (default runs/runs.sqlite, or RUNNER_DB)')
  .option('--data-dir <dir>', 'directory holding Fashion-MNIST')
  .action(exitWith(async (files: string[], options) => (await import('./commands/sweep.js')).sweepCommand(files, options)));

program
  .command('plan')
  .description('print every trial the files would run, with its size and an estimated duration, without training')
  .argument('<files...>', 'experiment YAML files')
  .option(...setOption)
  .option('--repeat <n>', 'run each combination with n seeds', intArg('--repeat'))
  .option('--max-trials <n>', 'largest grid allowed (default 1000)', intArg('--max-trials'))
  .addOption(backendOption())
  .option(...gpuOption)
  .option('--concurrency <n>', 'trials at once, for the wall-time total (default as for sweep)', intArg('--concurrency'))
  .option('--force', 'plan to re-run trials already completed on this branch')
  .option('--db <path>', 'run database whose runs the estimates come from (default runs/runs.sqlite, or RUNNER_DB)')
  .action(exitWith(async (files: string[], options) => (await import('./commands/sweep.js')).planCommand(files, options)));

program
  .command('report')
  .description('rank runs (repeats of a config grouped as mean ± std); --html writes a self-contained report page')
  .option('--top <n>', 'show the best n', intArg('--top'))
  .option('--metric <name>', 'accuracy (default), loss or time')
  .option('--experiment <name>', 'only this experiment')
  .option('--branch <name>', 'only runs made on this git branch')
  .addOption(new Option('--status <status>', 'only runs with this status').choices(['running', 'completed', 'failed', 'diverged', 'interrupted']).default('completed'))
  .option('--since <date>', 'only runs started on or after this ISO date')
  .option('--json', 'machine-readable output')
  .option('--csv', 'CSV output')
  .option('--html <file>', 'write an HTML report (leaderboard, curves, confusion matrices, sweep plots, misclassified images) that opens offline')
  .option('--data-dir <dir>', 'directory holding Fashion-MNIST, for the images of the HTML report')
  .option('--db <path>', 'run database')
  .action(exitWith(async (options) => (await import('./commands/report.js')).reportCommand(options)));

program
  .command('show')
  .description('one run in detail: config, learning curves, confusion matrix, per-class metrics, frequent confusions')
  .argument('<run>', 'run id or a unique prefix of one')
  .option('--json', 'machine-readable output')
  .option('--db <path>', 'run database')
  .action(exitWith(async (run: string, options) => (await import('./commands/show.js')).showCommand(run, options)));

program
  .command('compare')
  .description('two runs side by side: config differences, metric deltas, per-class recall changes')
  .argument('<run-a>', 'run id or unique prefix')
  .argument('<run-b>', 'run id or unique prefix')
  .option('--json', 'machine-readable output')
  .option('--db <path>', 'run database')
  .action(exitWith(async (a: string, b: string, options) => (await import('./commands/compare.js')).compareCommand(a, b, options)));

program
  .command('diff')
  .description('test accuracy of the same configs on two git refs (branch names or commits), with deltas and significance')
  .argument('[ref-a]', 'baseline branch or commit (default: main)')
  .argument('[ref-b]', 'branch or commit to judge (default: the current branch)')
  .option('--experiment <name>', 'only this experiment')
  .option('--fail-on-regression <points>', 'exit 1 when a config lost more than this many percentage points of test accuracy (0.5 = half a point)')
  .option('--json', 'machine-readable output')
  .option('--db <path>', 'run database')
  .action(exitWith(async (a: string | undefined, b: string | undefined, options) => (await import('./commands/diff.js')).diffCommand(a, b, options)));

program
  .command('list')
  .description('every recorded run with its status')
  .addOption(new Option('--status <status>', 'only runs with this status').choices(['running', 'completed', 'failed', 'diverged', 'interrupted']))
  .option('--experiment <name>', 'only this experiment')
  .option('--json', 'machine-readable output')
  .option('--db <path>', 'run database')
  .action(exitWith(async (options) => (await import('./commands/list.js')).listCommand(options)));

program
  .command('export-model')
  .description("copy a completed run's saved weights out as a tfjs model directory (model.json + weights.bin)")
  .argument('<run>', 'run id or a unique prefix of it')
  .argument('[dir]', 'target directory (default: <experiment>-<run id>)')
  .option('--db <path>', 'run database')
  .action(exitWith(async (run: string, dir: string | undefined, options) => (await import('./commands/export-model.js')).exportModelCommand(run, dir, options)));

program
  .command('doctor')
  .description('show the backends, GPU, dataset and database this machine has, and how to fix what is missing')
  .option(...gpuOption)
  .option('--db <path>', 'run database')
  .option('--data-dir <dir>', 'directory holding Fashion-MNIST')
  .action(exitWith(async (options) => (await import('./commands/doctor.js')).doctorCommand(options)));

async function main(): Promise<number> {
  try {
    await program.parseAsync(process.argv);
    return commandExitCode;
  } catch (error) {
    return exitCodeFor(error);
  }
}

/** The one place where errors become exit codes: 2 for the user's mistakes, 1 for failures, no stack trace for the former. */
async function exitCodeFor(error: unknown): Promise<number> {
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
  if (error instanceof UserError) {
    console.error(chalk.red(error.problems.length ? error.message : `error: ${error.message}`));
    const { formatProblem } = await import('./ui/problems.js');
    for (const problem of error.problems) console.error(formatProblem(problem) + '\n');
    return 2;
  }
  if (error instanceof RuntimeFailure) {
    console.error(chalk.red(`error: ${error.message}`));
    return 1;
  }
  console.error(chalk.red('internal error (please report it):'), error);
  return 1;
}

// `runner list | head` closes the pipe early; that is the reader's choice, not a crash.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

process.exitCode = await main();
