#!/usr/bin/env node
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import chalk from 'chalk';
import { RuntimeFailure, UserError } from './errors.js';
import { collect, positiveInteger } from './commands/options.js';
import { BACKEND_REQUESTS } from './backend/names.js';
import { RUN_STATUSES } from './run-status.js';

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
const sweepOption = [
  '--sweep <path=values>',
  "sweep a field of every experiment, adding an axis or replacing the file's: a,b,c, [a, b], range(start,stop,step) or logrange(start,stop,count) (repeatable)",
  collect,
] as const;
const JSON_HELP = 'nested JSON with camelCase fields, a stable interface (README: Machine-readable output)';
const MD_HELP = 'GitHub-flavoured Markdown tables, to paste into a pull-request comment';
/** One output format at a time: a second one would otherwise be silently ignored. */
const jsonOption = (...others: string[]) => new Option('--json', JSON_HELP).conflicts(others);
const statusOption = () => new Option('--status <status>', 'only runs with this status').choices(RUN_STATUSES);
const tagFilterOption = ['--tag <key=value>', 'only runs with this tag (repeatable: all must match)', collect] as const;
const maxMemoryOption = ['--max-memory <size>', 'most memory one trial may need, estimated from its weights and activations (e.g. 8GiB, 512MB; default 4GiB)', memoryArg] as const;
const intArg = (name: string) => (text: string) => {
  try {
    return positiveInteger(name)(text);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
};
const repeatOption = ['--repeat <n>', 'run each combination with n seeds', intArg('--repeat')] as const;
const maxTrialsOption = ['--max-trials <n>', 'largest grid allowed (default 1000)', intArg('--max-trials')] as const;

program
  .command('validate')
  .description('check experiment files against the schema and each other; exit 2 when any is invalid')
  .argument('<files...>', 'experiment YAML files')
  .option(...setOption)
  .option(...sweepOption)
  .option('--max-trials <n>', 'largest grid allowed', intArg('--max-trials'))
  .option(...maxMemoryOption)
  .option('--summary', "print each model's layers with output shapes and parameter counts")
  .option('--print', 'print each file fully resolved (extends, --set, --sweep and defaults applied) as YAML')
  .action(exitWith(async (files: string[], options) => (await import('./commands/validate.js')).validateCommand(files, options)));

program
  .command('sweep')
  .description('run every trial of each file\'s sweep grid and record it in the database')
  .argument('<files...>', 'experiment YAML files')
  .option(...setOption)
  .option(...sweepOption)
  .addOption(backendOption())
  .option(...gpuOption)
  .option('--concurrency <n>', 'trials at once, each in its own process (default: one per core on CPU backends; on a GPU, what measurement showed best)', intArg('--concurrency'))
  .option(...repeatOption)
  .option('--force', 're-run trials already completed on this branch')
  .option(...maxTrialsOption)
  .option(...maxMemoryOption)
  .option('--dry-run', 'print the trials and exit without training')
  .option('--db <path>', 'run database (default runs/runs.sqlite, or RUNNER_DB)')
  .option('--data-dir <dir>', 'directory holding Fashion-MNIST')
  .option('--stall-timeout <duration>', 'stop a trial (recorded interrupted) after this long without batch or epoch progress, e.g. 90s or 10m (default 10m)')
  .option('--queue <url>', 'hand the trials to `runner worker`s through this Redis queue, redis://[user:password@]host:port[/db] (or RUNNER_QUEUE); --concurrency then caps the jobs queued at once (default: all)')
  .action(exitWith(async (files: string[], options) => (await import('./commands/sweep.js')).sweepCommand(files, options)));

program
  .command('worker')
  .description('train trials that `runner sweep --queue` enqueues, on this machine, until Ctrl-C or SIGTERM; writes no database')
  .option('--queue <url>', 'the Redis queue, redis://[user:password@]host:port[/db] (or RUNNER_QUEUE)')
  .option('--concurrency <n>', 'trials at once, each in its own process (default 1)', intArg('--concurrency'))
  .addOption(backendOption())
  .option(...gpuOption)
  .option('--data-dir <dir>', 'directory holding Fashion-MNIST on this machine')
  .option(...maxMemoryOption)
  .action(exitWith(async (options) => (await import('./commands/worker.js')).workerCommand(options)));

program
  .command('queue')
  .description('the Redis queue of `runner sweep --queue`: status (jobs waiting, running and on which worker, completed, failed), clear (everything), drain (waiting jobs)')
  .argument('<action>', 'status, clear or drain')
  .option('--queue <url>', 'the Redis queue, redis://[user:password@]host:port[/db] (or RUNNER_QUEUE)')
  .option('-y, --yes', 'clear without asking for a confirmation')
  .action(exitWith(async (action: string, options) => (await import('./commands/queue.js')).queueCommand(action, options)));

program
  .command('plan')
  .description('print every trial the files would run, with its size and an estimated duration, without training')
  .argument('<files...>', 'experiment YAML files')
  .option(...setOption)
  .option(...sweepOption)
  .option(...repeatOption)
  .option(...maxTrialsOption)
  .option(...maxMemoryOption)
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
  .addOption(statusOption().default('completed'))
  .option('--since <date>', 'only runs started on or after this ISO date')
  .option(...tagFilterOption)
  .addOption(jsonOption('csv', 'md', 'html'))
  .addOption(new Option('--csv', 'CSV output').conflicts(['md', 'html']))
  .addOption(new Option('--md', MD_HELP).conflicts('html'))
  .option('--html <file>', 'write an HTML report (leaderboard, curves, confusion matrices, sweep plots, misclassified images) that opens offline')
  .option('--data-dir <dir>', 'directory holding Fashion-MNIST, for the images of the HTML report')
  .option('--db <path>', 'run database')
  .action(exitWith(async (options) => (await import('./commands/report.js')).reportCommand(options)));

program
  .command('show')
  .description('one run in detail: config, learning curves, confusion matrix, per-class metrics, frequent confusions')
  .argument('<run>', 'run id or a unique prefix of one')
  .addOption(jsonOption())
  .option('--db <path>', 'run database')
  .action(exitWith(async (run: string, options) => (await import('./commands/show.js')).showCommand(run, options)));

program
  .command('compare')
  .description('two runs side by side: config differences, metric deltas, per-class recall changes')
  .argument('<run-a>', 'run id or unique prefix')
  .argument('<run-b>', 'run id or unique prefix')
  .addOption(jsonOption('md'))
  .option('--md', MD_HELP)
  .option('--db <path>', 'run database')
  .action(exitWith(async (a: string, b: string, options) => (await import('./commands/compare.js')).compareCommand(a, b, options)));

program
  .command('diff')
  .description('test accuracy of the same configs on two git refs (branch names or commits), with deltas and significance')
  .argument('[ref-a]', 'baseline branch or commit (default: main)')
  .argument('[ref-b]', 'branch or commit to judge (default: the current branch)')
  .option('--experiment <name>', 'only this experiment')
  .option('--fail-on-regression <points>', 'exit 1 when a config lost more than this many percentage points of test accuracy (0.5 = half a point)')
  .addOption(jsonOption('md'))
  .option('--md', MD_HELP)
  .option('--db <path>', 'run database')
  .action(exitWith(async (a: string | undefined, b: string | undefined, options) => (await import('./commands/diff.js')).diffCommand(a, b, options)));

program
  .command('list')
  .description('every recorded run with its status')
  .addOption(statusOption())
  .option('--experiment <name>', 'only this experiment')
  .option(...tagFilterOption)
  .addOption(jsonOption())
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
  .command('tag')
  .description('label a run: runner tag RUN reviewed=yes baseline=true; list and report filter on it with --tag key=value')
  .argument('<run>', 'run id or a unique prefix of it')
  .argument('[pairs...]', 'key=value tags to set (an existing tag is overwritten)')
  .option('--remove <key>', 'remove this tag (repeatable)', collect)
  .option('--db <path>', 'run database')
  .action(exitWith(async (run: string, pairs: string[], options) => (await import('./commands/tag.js')).tagCommand(run, pairs, options)));

program
  .command('note')
  .description('write a note on a run, shown by show and carried in --json: runner note RUN "lr too high"')
  .argument('<run>', 'run id or a unique prefix of it')
  .argument('[text]', 'the note; replaces the previous one')
  .option('--clear', 'remove the note')
  .option('--db <path>', 'run database')
  .action(exitWith(async (run: string, text: string | undefined, options) => (await import('./commands/note.js')).noteCommand(run, text, options)));

program
  .command('rm')
  .description('remove runs, their epochs, tags and runs/<run-id>/ folders, after a confirmation')
  .argument('<runs...>', 'run ids or unique prefixes')
  .option('-y, --yes', 'do not ask for a confirmation')
  .option('--db <path>', 'run database')
  .action(exitWith(async (runs: string[], options) => (await import('./commands/remove.js')).removeCommand(runs, options)));

program
  .command('gc')
  .description('remove failed, diverged and interrupted runs and run folders the database does not know; completed runs are kept')
  .option('--older-than <age>', 'only runs started longer ago than this, e.g. 30d, 12h, 2w')
  .option('--dry-run', 'print what would be removed')
  .option('--db <path>', 'run database')
  .action(exitWith(async (options) => (await import('./commands/gc.js')).gcCommand(options)));

program
  .command('doctor')
  .description('show the backends, GPU, dataset and database this machine has, and how to fix what is missing')
  .option(...gpuOption)
  .option('--db <path>', 'run database')
  .option('--data-dir <dir>', 'directory holding Fashion-MNIST')
  .action(exitWith(async (options) => (await import('./commands/doctor.js')).doctorCommand(options)));

program
  .command('ui')
  .description('serve a live dashboard over the run database (read-only): leaderboard, sweep plots, runs, comparisons, branch diffs')
  .option('--port <n>', 'port to listen on (0: any free port)', portArg, 4173)
  .option('--host <address>', 'address to listen on; anything but loopback lets other machines read the runs', '127.0.0.1')
  .option('--db <path>', 'run database')
  .option('--data-dir <dir>', 'directory holding Fashion-MNIST, for the misclassified images')
  .action(exitWith(async (options) => (await import('./commands/ui.js')).uiCommand(options)));

/** `8GiB`, `512MB`, `2g`: binary units (KiB, MiB, GiB, TiB, or K, M, G, T) are powers of 1024, decimal ones (KB, MB, GB, TB) of 1000. */
function memoryArg(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(k|m|g|t)(i?b)?\s*$/i.exec(text);
  if (!match) throw new InvalidArgumentError(`--max-memory must be a size such as 8GiB or 512MB, got ${JSON.stringify(text)}`);
  const power = 'kmgt'.indexOf(match[2]!.toLowerCase()) + 1;
  const base = match[3]?.toLowerCase() === 'b' ? 1000 : 1024;
  return Number(match[1]) * base ** power;
}

function portArg(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new InvalidArgumentError(`--port must be a whole number from 0 to 65535, got ${JSON.stringify(text)}`);
  return port;
}

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

// `runner list | head` closes the pipe early: that is the reader's choice, not a crash. Writes to it are dropped and the
// command finishes, exiting with its own code, so that `runner diff … --fail-on-regression 1 | head` still fails.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

process.exitCode = await main();
