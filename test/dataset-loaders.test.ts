import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseImageCsv } from '../src/data/csv.js';
import { loadDataset, readLocation, take } from '../src/data/dataset.js';
import { parseIdx } from '../src/data/idx.js';
import { CSV_FILES, DEBIAN_DIR, IDX_FILES, locateDataset } from '../src/data/locate.js';
import { UserError } from '../src/errors.js';
import { tempDir } from './helpers/cli.js';

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
    expect(() => parseImageCsv(`${header}\n${row(3, 7)}\n1,2,3\n`, 'train.csv')).toThrow(/train.csv line 3: expected a label and 784 pixels, found 3 columns/);
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
