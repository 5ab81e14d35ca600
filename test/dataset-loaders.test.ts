import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseImageCsv } from '../src/data/csv.js';
import { downloadIntoCache, loadDataset, readLocation, take } from '../src/data/dataset.js';
import { MIRROR } from '../src/data/download.js';
import { parseIdx } from '../src/data/idx.js';
import { cacheDir, CSV_FILES, DEBIAN_DIR, IDX_FILES, locateDataset } from '../src/data/locate.js';
import { UserError } from '../src/errors.js';
import { runCli, tempDir } from './helpers/cli.js';

function idxBytes(dims: number[], values: number[]): Uint8Array {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt16BE(0, 0);
  header.writeUInt8(0x08, 2);
  header.writeUInt8(dims.length, 3);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(values)]);
}

/** A three-image dataset in IDX .gz form: image n is all n*10, label n. */
function writeTinyIdx(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const images = (n: number) => idxBytes([n, 28, 28], Array.from({ length: n * 784 }, (_, i) => Math.floor(i / 784) * 10));
  const labels = (n: number) => idxBytes([n], Array.from({ length: n }, (_, i) => i));
  writeFileSync(join(dir, IDX_FILES.trainImages), gzipSync(images(3)));
  writeFileSync(join(dir, IDX_FILES.trainLabels), gzipSync(labels(3)));
  writeFileSync(join(dir, IDX_FILES.testImages), gzipSync(images(2)));
  writeFileSync(join(dir, IDX_FILES.testLabels), gzipSync(labels(2)));
}

describe('Fashion-MNIST loaders', () => {
  it('reads IDX files and checks their header against their size', () => {
    const parsed = parseIdx(idxBytes([2, 2], [1, 2, 3, 4]), 'x');
    expect(parsed.dims).toEqual([2, 2]);
    expect([...parsed.data]).toEqual([1, 2, 3, 4]);
    expect(() => parseIdx(idxBytes([2, 2], [1, 2, 3]), 'short.idx')).toThrow(/header says 4 values, file has 3/);
  });

  it("reads Kaggle's CSV layout, header and all, and names the line of a bad row", () => {
    const header = ['label', ...Array.from({ length: 784 }, (_, i) => `pixel${i + 1}`)].join(',');
    const row = (label: number, value: number) => [label, ...new Array(784).fill(value)].join(',');
    const parsed = parseImageCsv(`${header}\n${row(3, 7)}\n${row(9, 255)}\n`, 'train.csv');
    expect(parsed.count).toBe(2);
    expect([...parsed.labels]).toEqual([3, 9]);
    expect(parsed.images[783]).toBe(7);
    expect(parsed.images[784]).toBe(255);
    expect(() => parseImageCsv(`${header}\n${row(3, 7)}\n1,2,3\n`, 'train.csv')).toThrow(/^train.csv:3: expected a label and 784 pixels, found 3 columns$/);
  });

  it('rejects a CSV label that is not a class, at its file:line, as a mistake in the input (exit 2)', () => {
    const row = (label: number) => [label, ...new Array(784).fill(0)].join(',');
    const parse = () => parseImageCsv(`${row(9)}\n${row(12)}\n`, '/data/fashion-mnist_train.csv');
    expect(parse).toThrow(UserError);
    expect(parse).toThrow('/data/fashion-mnist_train.csv:2: label 12 is not a class; labels are 0 to 9');
    try {
      parse();
    } catch (error) {
      expect((error as UserError).exitCode).toBe(2);
    }
  });

  it('rejects a damaged IDX copy (a label that is not a class, a truncated gzip) as a user error naming the file', () => {
    const dir = tempDir('runner-idx-');
    writeTinyIdx(dir);
    const read = () => readLocation({ dir, format: 'idx', via: 'test' });
    expect(read().train.count).toBe(3);
    writeFileSync(join(dir, IDX_FILES.testLabels), gzipSync(idxBytes([2], [0, 10])));
    expect(read).toThrow(UserError);
    expect(read).toThrow(`${join(dir, IDX_FILES.testLabels)}: label 10 of item 1 is not a class (labels are 0 to 9); replace the file`);
    const whole = gzipSync(idxBytes([2], [0, 1]));
    writeFileSync(join(dir, IDX_FILES.testLabels), whole.subarray(0, whole.length - 6));
    expect(read).toThrow(UserError);
    expect(read).toThrow(`${join(dir, IDX_FILES.testLabels)}: not a complete gzip file`);
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds a CSV copy as well as an IDX one', () => {
    const dir = tempDir();
    const row = (label: number) => [label, ...new Array(784).fill(1)].join(',');
    writeFileSync(join(dir, CSV_FILES.train), `${row(1)}\n${row(2)}\n`);
    writeFileSync(join(dir, CSV_FILES.test), `${row(5)}\n`);
    const location = locateDataset({ dataDir: dir });
    expect(location).toMatchObject({ dir, format: 'csv', via: '--data-dir' });
    const data = readLocation(location as { dir: string; format: 'csv'; via: string });
    expect(data.train.count).toBe(2);
    expect([...data.test.labels]).toEqual([5]);
  });

  it('searches data.path, then --data-dir, then FASHION_MNIST_DIR, then the cache, then Debian', () => {
    const a = tempDir();
    const b = tempDir();
    writeTinyIdx(a);
    writeTinyIdx(b);
    expect(locateDataset({ experimentPath: a, dataDir: b })).toMatchObject({ dir: a, via: 'data.path in the experiment file' });
    expect(locateDataset({ dataDir: b })).toMatchObject({ dir: b, via: '--data-dir' });
    const before = process.env.FASHION_MNIST_DIR;
    process.env.FASHION_MNIST_DIR = a;
    try {
      expect(locateDataset({})).toMatchObject({ dir: a, via: 'FASHION_MNIST_DIR' });
    } finally {
      if (before === undefined) delete process.env.FASHION_MNIST_DIR;
      else process.env.FASHION_MNIST_DIR = before;
    }
  });

  it('an explicit directory without the files is a clear user error, not a silent fallback', async () => {
    const empty = tempDir();
    await expect(loadDataset({ dataDir: empty })).rejects.toThrow(UserError);
    await expect(loadDataset({ dataDir: empty })).rejects.toThrow(/Fashion-MNIST not found in .* \(from --data-dir\)/);
  });

  it('loads the real dataset: 60,000 + 10,000 labelled 28×28 images', async () => {
    const started = performance.now();
    const data = await loadDataset({ dataDir: DEBIAN_DIR });
    const seconds = (performance.now() - started) / 1000;
    expect(data.train.count).toBe(60000);
    expect(data.test.count).toBe(10000);
    expect(data.train.images.length).toBe(60000 * 784);
    expect(Math.max(...data.test.labels)).toBe(9);
    expect(take(data.train, 100).labels.length).toBe(100);
    console.log(`loaded Fashion-MNIST in ${seconds.toFixed(2)} s`);
  });
});

describe('downloading Fashion-MNIST when no copy is found (fetch stubbed: no real network)', () => {
  /** The cache is a fresh directory per test; the stubbed fetch serves the Debian copy's bytes, or what a test says. */
  function useFreshCache(): string {
    vi.stubEnv('XDG_CACHE_HOME', tempDir('runner-cache-'));
    return cacheDir();
  }
  const debianBytes = (url: string) => readFileSync(join(DEBIAN_DIR, url.slice(MIRROR.length)));

  afterEach(() => {
    vi.unstubAllGlobals();
    vi.unstubAllEnvs();
  });

  it('fetches the four files over HTTPS from the dataset repository and keeps them once their checksums match', async () => {
    const dir = useFreshCache();
    const fetched: string[] = [];
    vi.stubGlobal('fetch', async (url: string) => {
      fetched.push(url);
      return new Response(debianBytes(url));
    });
    const location = await downloadIntoCache({}, () => {});
    expect(location).toEqual({ dir, format: 'idx', via: 'download into the user cache' });
    expect(fetched).toEqual(Object.values(IDX_FILES).map((name) => `https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/${name}`));
    expect(readdirSync(dir).sort()).toEqual(Object.values(IDX_FILES).sort());
    expect(locateDataset({})).toMatchObject({ dir, via: 'the user cache' });
  });

  it('refuses a download whose content does not match its checksum, and keeps nothing of it', async () => {
    const dir = useFreshCache();
    vi.stubGlobal('fetch', async () => new Response(gzipSync(Buffer.from('not the dataset'))));
    const attempt = downloadIntoCache({}, () => {});
    await expect(attempt).rejects.toThrow(UserError);
    await expect(attempt).rejects.toThrow(`${MIRROR}${IDX_FILES.trainImages}: checksum mismatch, the download is corrupt`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('without a network, says so and names every other way to get the dataset, as a user error (exit 2)', async () => {
    const dir = useFreshCache();
    vi.stubGlobal('fetch', async () => {
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('getaddrinfo ENOTFOUND raw.githubusercontent.com'), { code: 'ENOTFOUND' }) });
    });
    const error = await downloadIntoCache({ dataDir: '/somewhere' }, () => {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).exitCode).toBe(2);
    const message = (error as UserError).message;
    expect(message).toContain(`downloading it failed: ${MIRROR}${IDX_FILES.trainImages}: no connection (ENOTFOUND)`);
    for (const option of ['apt-get install dataset-fashion-mnist', '--data-dir DIR', 'FASHION_MNIST_DIR=DIR', 'data.path', dir]) expect(message).toContain(option);
    expect(existsSync(join(dir, IDX_FILES.trainImages))).toBe(false);
  });
});

describe('runner doctor and the dataset', () => {
  it('with --data-dir naming a directory without the dataset, says that directory lacks it and where it would otherwise be found', async () => {
    const empty = tempDir();
    const result = await runCli(['doctor', '--data-dir', empty], { env: { FASHION_MNIST_DIR: '', XDG_CACHE_HOME: tempDir() } });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`Fashion-MNIST not found in ${empty} (--data-dir)`);
    expect(result.stdout).toContain(`without --data-dir it would be found in ${DEBIAN_DIR} (Debian's dataset-fashion-mnist package)`);
    expect(result.stdout).not.toContain(`not found in ${DEBIAN_DIR}`);
  });
});
