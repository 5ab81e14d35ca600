import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError, type Problem } from '../src/errors.js';
import { RunStore } from '../src/store/run-store.js';
import { validateExperimentFile } from '../src/sweep/checked-trials.js';
import { blocksByFile, ROOT, runCli, tempDir } from './helpers/cli.js';
import { query } from './helpers/sweeps.js';

/** Each file opens with what it must produce, one line per problem: `# expect line N, column C: message fragment`. */
const DIR = join(ROOT, 'test', 'invalid-experiments');
const corpus = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .map((name) => {
    const file = join(DIR, name);
    const header = readFileSync(file, 'utf8').split('\n').filter((line) => line.startsWith('# expect'));
    const expected = header.map((line) => {
      const [, row, column, fragment] = /^# expect line (\d+), column (\d+): (.*)$/.exec(line)!;
      return { line: Number(row), column: Number(column), fragment: fragment! };
    });
    return { name, file, expected };
  });

function problemsOf(file: string): Problem[] {
  try {
    validateExperimentFile(file);
  } catch (error) {
    if (error instanceof UserError) return error.problems.length ? error.problems : [{ file, message: error.message }];
    throw error;
  }
  return [];
}

const mentions = (p: Problem, fragment: string) => `${p.message} ${p.hint ?? ''}`.includes(fragment);


/** Row counts of every table and the file's bytes: what "untouched" means for a database. */
function snapshot(db: string) {
  const count = (table: string) => query<{ n: number }>(db, `SELECT count(*) AS n FROM ${table}`)[0]?.n;
  return { sweeps: count('sweeps'), runs: count('runs'), epochs: count('epochs'), sha256: createHash('sha256').update(readFileSync(db)).digest('hex') };
}

describe('every invalid experiment in the corpus is caught before training, at the right line and column', () => {
  it('the corpus covers the rules with at least 40 files, each with what it must produce', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(40);
    for (const c of corpus) expect(c.expected.length, c.name).toBeGreaterThan(0);
  });

  it.each(corpus)('$name', ({ file, expected }) => {
    const problems = problemsOf(file);
    for (const { line, column, fragment } of expected) {
      const match = problems.find((p) => mentions(p, fragment));
      expect(match, `no problem mentions "${fragment}"; problems: ${JSON.stringify(problems, null, 1)}`).toBeDefined();
      expect({ line: match!.line, column: match!.column }, fragment).toEqual({ line, column });
    }
  });

  it('`runner validate` counts each file invalid, prints its problems at file:line:column, and no stack trace', async () => {
    const result = await runCli(['validate', ...corpus.map((c) => c.file)]);
    expect(result.status).toBe(2);
    expect(result.stdout).toContain(`0 of ${corpus.length} files valid`);
    expect(result.stdout).not.toContain('✓');
    const blocks = blocksByFile(result.stderr);
    for (const c of corpus) {
      const block = blocks.get(c.file);
      expect(block, `${c.name} has no block of its own`).toBeDefined();
      for (const { line, column, fragment } of c.expected) {
        expect(block, c.name).toContain(`${c.file}:${line}:${column} `);
        expect(block, c.name).toContain(fragment);
      }
    }
    expect(result.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    expect(result.stderr).not.toContain('internal error');
  });

  it('a sweep of an invalid file writes nothing: no database, no sweep row', async () => {
    const db = join(tempDir(), 'runs.sqlite');
    const bad = corpus.find((c) => c.name.includes('dense-after-conv'))!;
    const result = await runCli(['sweep', join(ROOT, 'experiments', 'quick.yaml'), bad.file, '--db', db]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('nothing was run');
    expect(existsSync(db)).toBe(false);
  });

  it('a sweep that fails validation leaves an existing database exactly as it was', async () => {
    const db = join(tempDir(), 'runs.sqlite');
    const quick = join(ROOT, 'experiments', 'quick.yaml');
    const [trial] = validateExperimentFile(quick).trials;
    const store = new RunStore(db);
    const sweepId = store.startSweep('runner sweep experiments/quick.yaml');
    store.startRun({
      id: 'earlier-run',
      sweepId,
      experiment: trial!.experiment,
      file: 'experiments/quick.yaml',
      config: trial!.config,
      configHash: trial!.hash,
      params: trial!.params,
      seed: trial!.config.train.seed,
      repeatIndex: 0,
      git: { branch: 'main' },
      backend: 'wasm',
    });
    store.finishRun('earlier-run', { status: 'completed', testAccuracy: 0.86, testLoss: 0.4, seconds: 9 });
    store.finishSweep(sweepId, 'finished');
    store.close();
    const before = snapshot(db);
    expect(before).toMatchObject({ sweeps: 1, runs: 1 });

    const bad = corpus.find((c) => c.name.includes('dense-after-conv'))!;
    const result = await runCli(['sweep', quick, bad.file, '--db', db]);
    expect(result.status, result.stderr).toBe(2);
    expect(result.stderr).toContain('nothing was run');
    expect(snapshot(db)).toEqual(before);
  });
});
