import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CSV_FILES, IDX_FILES } from '../src/data/locate.js';
import { runCli, tempDir, writeTemp, type CliResult } from './helpers/cli.js';
import { datasetCopy, tinyExperiment } from './helpers/sweeps.js';

/**
 * A sweep reads its dataset once in the parent before any trial starts: a damaged or short copy is one user error
 * (exit 2) naming the file, with the way to replace it that fits where the copy came from, and nothing is run.
 */
const experiment = (dir: string, data = 'trainLimit: 600, testLimit: 300') => writeTemp('tiny.yaml', tinyExperiment('tiny', '', 'epochs: 1', data), dir);

function sweep(dir: string, args: string[], env?: Record<string, string>): Promise<CliResult> {
  return runCli(['sweep', ...args, '--backend', 'cpu', '--db', join(dir, 'runs.sqlite')], { cwd: dir, env });
}

function expectRefused(result: CliResult, dir: string, message: string): void {
  expect(result.status, result.stderr).toBe(2);
  expect(result.stderr).toContain(message);
  expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
  // Refused before the database was even opened: no trial was recorded, failed or otherwise.
  expect(existsSync(join(dir, 'runs.sqlite'))).toBe(false);
}

/** A Kaggle-layout CSV copy: `train` and `test` rows of a label and 784 pixels, with `extra` appended to the training file. */
function csvCopy(train: number, test: number, extra = ''): string {
  const dir = tempDir('runner-csv-');
  const rows = (n: number) => Array.from({ length: n }, (_, i) => [i % 10, ...new Array(784).fill(i % 256)].join(',')).join('\n');
  const header = ['label', ...Array.from({ length: 784 }, (_, i) => `pixel${i + 1}`)].join(',');
  writeFileSync(join(dir, CSV_FILES.train), `${header}\n${rows(train)}\n${extra}`);
  writeFileSync(join(dir, CSV_FILES.test), `${header}\n${rows(test)}\n`);
  return dir;
}

describe('a sweep checks its data before any trial starts', () => {
  it('a copy whose labels were cut short (data.path): exit 2 naming the labels file, and no download hint for a copy that is the user’s', async () => {
    const dir = tempDir();
    const cut = datasetCopy(tempDir('runner-data-'), { truncatedLabels: true });
    const file = experiment(dir, `path: ${JSON.stringify(cut)}, trainLimit: 600, testLimit: 300`);
    const result = await sweep(dir, [file]);
    expectRefused(result, dir, `${join(cut, IDX_FILES.trainLabels)}: IDX header says 60000 values, file has 59000`);
    expect(result.stderr).toContain('replace the file with a good copy (this copy comes from data.path in the experiment file)');
    expect(result.stderr).not.toContain('downloads it again');
  });

  it('a truncated .gz (--data-dir): exit 2 naming the file', async () => {
    const dir = tempDir();
    const copy = datasetCopy(tempDir('runner-data-'));
    const target = join(copy, IDX_FILES.testImages);
    const whole = readFileSync(target);
    // datasetCopy links to the real files: rename() replaces the link, leaving the dataset it points at untouched.
    writeFileSync(`${target}.cut`, whole.subarray(0, whole.length / 2));
    renameSync(`${target}.cut`, target);
    const result = await sweep(dir, [experiment(dir), '--data-dir', copy]);
    expectRefused(result, dir, `${target}: not a complete gzip file (unexpected end of file); replace the file with a good copy (this copy comes from --data-dir)`);
  });

  it('a malformed CSV: exit 2 at its file:line', async () => {
    const dir = tempDir();
    const copy = csvCopy(700, 400, '3,1,2\n');
    const result = await sweep(dir, [experiment(dir), '--data-dir', copy]);
    expectRefused(result, dir, `${join(copy, CSV_FILES.train)}:702: expected a label and 784 pixels, found 3 columns; replace the file with a good copy (this copy comes from --data-dir)`);
  });

  it('a copy smaller than data.trainLimit asks for, or than Fashion-MNIST without a limit, is refused rather than trained on and recorded as full-size', async () => {
    const copy = csvCopy(500, 400);
    const dir = tempDir();
    const file = experiment(dir);
    expectRefused(
      await sweep(dir, [file, '--data-dir', copy]),
      dir,
      `${join(copy, CSV_FILES.train)} holds 500 training images, but data.trainLimit in ${file} asks for 600: a trial would use fewer and be recorded as if it had used them all. Set data.trainLimit to 500 or less, or use a complete copy`,
    );
    const unlimited = tempDir();
    const result = await sweep(unlimited, [experiment(unlimited, 'trainLimit: 500'), '--data-dir', copy]);
    expectRefused(result, unlimited, `${join(copy, CSV_FILES.test)} holds 400 test images, but ${join(unlimited, 'tiny.yaml')} sets no data.testLimit, so its trials use all 10000 of Fashion-MNIST's`);
  });

  it('a damaged copy in the runner’s own download cache says to delete it so that it is downloaded again', async () => {
    const dir = tempDir();
    const cache = tempDir('runner-cache-');
    const cached = join(cache, 'runner', 'fashion-mnist');
    mkdirSync(cached, { recursive: true });
    datasetCopy(cached, { truncatedLabels: true });
    const result = await sweep(dir, [experiment(dir)], { XDG_CACHE_HOME: cache, FASHION_MNIST_DIR: '' });
    expectRefused(result, dir, `${join(cached, IDX_FILES.trainLabels)}: IDX header says 60000 values, file has 59000`);
    expect(result.stderr).toContain('delete the file, and the runner downloads it again');
  });
});

