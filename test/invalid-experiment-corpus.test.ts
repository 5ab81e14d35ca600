import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadExperiment } from '../src/config/load-experiment.js';
import { UserError, type Problem } from '../src/errors.js';
import { checkedTrials } from '../src/sweep/checked-trials.js';
import { ROOT, runCli, tempDir } from './helpers/cli.js';

/** Each file's first line says what it must produce: `# expect line N: message fragment`. */
const DIR = join(ROOT, 'test', 'invalid-experiments');
const corpus = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .map((name) => {
    const file = join(DIR, name);
    const [, line, fragment] = /^# expect line (\d+): (.*)$/.exec(readFileSync(file, 'utf8').split('\n')[0]!)!;
    return { name, file, line: Number(line), fragment: fragment! };
  });

function problemsOf(file: string): Problem[] {
  try {
    checkedTrials(loadExperiment(file));
  } catch (error) {
    if (error instanceof UserError) return error.problems.length ? error.problems : [{ file, message: error.message }];
    throw error;
  }
  return [];
}

describe('every invalid experiment in the corpus is caught before training, at the right line', () => {
  it('the corpus covers the rules with at least 40 files', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(40);
  });

  it.each(corpus)('$name', ({ file, line, fragment }) => {
    const problems = problemsOf(file);
    const match = problems.find((p) => p.message.includes(fragment) || `${p.message} ${p.hint ?? ''}`.includes(fragment));
    expect(match, `problems: ${JSON.stringify(problems, null, 1)}`).toBeDefined();
    expect(match!.line).toBe(line);
  });

  it('`runner validate` on the whole corpus exits 2, names file:line for each, and prints no stack trace', () => {
    const result = runCli(['validate', ...corpus.map((c) => c.file)]);
    expect(result.status).toBe(2);
    expect(result.stdout).toContain(`0 of ${corpus.length} files valid`);
    for (const c of corpus) expect(result.stderr, c.name).toContain(`${c.file}:${c.line}`);
    expect(result.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  });

  it('a sweep of an invalid file writes nothing: no database, no sweep row', () => {
    const db = join(tempDir(), 'runs.sqlite');
    const bad = corpus.find((c) => c.name.includes('dense-after-conv'))!;
    const result = runCli(['sweep', join(ROOT, 'experiments', 'quick.yaml'), bad.file, '--db', db]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('nothing was run');
    expect(existsSync(db)).toBe(false);
  });
});
