import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { UserError } from '../errors.js';
import { FASHION_MNIST_CLASSES, PIXELS } from './classes.js';
import { parseImageCsv } from './csv.js';
import { downloadDataset } from './download.js';
import { corruptDataFile, parseIdx } from './idx.js';
import { cacheDir, CSV_FILES, IDX_FILES, locateDataset, searchPath, type DataLocation, type DataSearch } from './locate.js';

/** Images as bytes (0..255, row-major 28×28) and labels (0..9); converted to floats a batch at a time. */
export interface LabelledImages {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

export interface Dataset {
  train: LabelledImages;
  test: LabelledImages;
  location: DataLocation;
}

export async function loadDataset(search: DataSearch, log: (line: string) => void = () => {}): Promise<Dataset> {
  let location = locateDataset(search);
  if (location && 'missingExplicit' in location) {
    const { dir, via } = location.missingExplicit;
    throw new UserError(`Fashion-MNIST not found in ${dir} (from ${via}): it needs the four IDX files (${Object.values(IDX_FILES).join(', ')}) or ${CSV_FILES.train} and ${CSV_FILES.test}`);
  }
  location ??= await downloadIntoCache(search, log);
  return { ...readLocation(location), location };
}

/** The last resort when no copy is found: a checked download; its failure tells the user every other way. */
export async function downloadIntoCache(search: DataSearch, log: (line: string) => void): Promise<DataLocation> {
  try {
    await downloadDataset(cacheDir(), log);
  } catch (error) {
    throw new UserError(missingMessage(search, (error as Error).message));
  }
  return { dir: cacheDir(), format: 'idx', via: 'download into the user cache' };
}

export function readLocation(location: DataLocation): Omit<Dataset, 'location'> {
  if (location.format === 'csv') {
    const read = (name: string) => parseImageCsv(readFileSync(join(location.dir, name), 'utf8'), join(location.dir, name));
    return { train: read(CSV_FILES.train), test: read(CSV_FILES.test) };
  }
  const read = (name: string) => parseIdx(gunzip(join(location.dir, name)), join(location.dir, name));
  return {
    train: pair(read(IDX_FILES.trainImages), read(IDX_FILES.trainLabels), location.dir, IDX_FILES.trainLabels),
    test: pair(read(IDX_FILES.testImages), read(IDX_FILES.testLabels), location.dir, IDX_FILES.testLabels),
  };
}

function gunzip(file: string): Uint8Array {
  const compressed = readFileSync(file);
  try {
    return gunzipSync(compressed);
  } catch (error) {
    throw corruptDataFile(file, `not a complete gzip file (${(error as Error).message})`);
  }
}

function pair(images: { dims: number[]; data: Uint8Array }, labels: { dims: number[]; data: Uint8Array }, dir: string, labelFile: string): LabelledImages {
  const count = labels.dims[0]!;
  if (images.dims[0] !== count || images.data.length !== count * PIXELS) {
    throw corruptDataFile(dir, `${images.dims.join('×')} images do not match ${count} labels of 28×28 images`);
  }
  // A label past the last class would only fail later, deep inside one-hot encoding or the confusion matrix.
  const bad = labels.data.findIndex((label) => label >= FASHION_MNIST_CLASSES.length);
  if (bad >= 0) throw corruptDataFile(join(dir, labelFile), `label ${labels.data[bad]} of item ${bad} is not a class (labels are 0 to ${FASHION_MNIST_CLASSES.length - 1})`);
  return { images: images.data, labels: labels.data, count };
}

function missingMessage(search: DataSearch, downloadError: string): string {
  const looked = searchPath(search).map((p) => `  - ${p.dir} (${p.via})`).join('\n');
  return [
    'Fashion-MNIST was not found, and downloading it failed: ' + downloadError,
    'Looked in:',
    looked,
    'To fix, do one of:',
    '  - install the Debian package: apt-get install dataset-fashion-mnist',
    '  - point at a copy: --data-dir DIR, FASHION_MNIST_DIR=DIR, or data.path in the experiment file',
    `  - put the four IDX .gz files (or Kaggle's ${CSV_FILES.train} / ${CSV_FILES.test}) in ${cacheDir()}`,
  ].join('\n');
}

/** The first `limit` samples (quick runs); a view, nothing is copied. */
export function take(set: LabelledImages, limit: number | undefined): LabelledImages {
  if (!limit || limit >= set.count) return set;
  return { images: set.images.subarray(0, limit * PIXELS), labels: set.labels.subarray(0, limit), count: limit };
}
