import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { UserError } from '../errors.js';
import { CLASS_COUNT, PIXELS, type LabelledImages } from './classes.js';
import { parseImageCsv } from './csv.js';
import { downloadDataset } from './download.js';
import { corruptDataFile, parseIdx } from './idx.js';
import { cacheDir, CSV_FILES, DEBIAN_DIR, IDX_FILES, locateDataset, searchPath, type DataLocation, type DataSearch } from './locate.js';

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

/** What a trial asks of its copy of the dataset: `file` is the experiment that asks. */
export interface DataNeed {
  file: string;
  trainLimit?: number;
  testLimit?: number;
}

/**
 * Finds (or downloads) the copy `search` leads to, reads every file of it and checks it against what the trials
 * that will read it ask for, so that a bad copy is one user error naming its file before any trial starts rather
 * than a failed run per trial. A copy with fewer images than a trial's limit (or than Fashion-MNIST's, without a
 * limit) is refused: the trial would train or score on fewer and be recorded as the full-size one.
 */
export async function checkedDataLocation(search: DataSearch, needs: readonly DataNeed[]): Promise<DataLocation> {
  const { location, train, test } = await loadDataset(search);
  const files = location.format === 'csv' ? { train: CSV_FILES.train, test: CSV_FILES.test } : { train: IDX_FILES.trainLabels, test: IDX_FILES.testLabels };
  for (const need of needs) {
    checkSize(join(location.dir, files.train), train.count, 'training', { limit: need.trainLimit, field: 'data.trainLimit', full: FULL_SIZE.train, file: need.file });
    checkSize(join(location.dir, files.test), test.count, 'test', { limit: need.testLimit, field: 'data.testLimit', full: FULL_SIZE.test, file: need.file });
  }
  return location;
}

/** Fashion-MNIST's own split. */
const FULL_SIZE = { train: 60_000, test: 10_000 };

function checkSize(dataFile: string, count: number, set: string, need: { limit?: number; field: string; full: number; file: string }): void {
  const wanted = need.limit ?? need.full;
  if (count >= wanted) return;
  const asks = need.limit === undefined ? `${need.file} sets no ${need.field}, so its trials use all ${need.full} of Fashion-MNIST's` : `${need.field} in ${need.file} asks for ${need.limit}`;
  throw new UserError(
    `${dataFile} holds ${count} ${set} images, but ${asks}: a trial would use fewer and be recorded as if it had used them all. Set ${need.field} to ${count} or less, or use a complete copy`,
  );
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

/** Every image and label of the copy at `location`; a damaged file is a UserError naming it and how to replace it. */
export function readLocation(location: DataLocation): Omit<Dataset, 'location'> {
  return { train: readSet(location, 'train'), test: readSet(location, 'test') };
}

/** One set of the copy at `location`, for readers that show test images and need nothing of the training set. */
export function readSet(location: DataLocation, set: 'train' | 'test'): LabelledImages {
  try {
    return readFiles(location, set);
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    throw new UserError(`${error.message}; ${replacementHint(location)}`);
  }
}

function readFiles(location: DataLocation, set: 'train' | 'test'): LabelledImages {
  const path = (name: string) => join(location.dir, name);
  if (location.format === 'csv') return parseImageCsv(readFileSync(path(CSV_FILES[set]), 'utf8'), path(CSV_FILES[set]));
  const read = (name: string) => ({ ...parseIdx(gunzip(path(name)), path(name)), file: path(name) });
  return set === 'train' ? pair(read(IDX_FILES.trainImages), read(IDX_FILES.trainLabels)) : pair(read(IDX_FILES.testImages), read(IDX_FILES.testLabels));
}

/** Only the runner's own download cache may be deleted to be fetched again; other copies are the user's or a package's. */
function replacementHint(location: DataLocation): string {
  if (location.dir === cacheDir()) return 'delete the file, and the runner downloads it again';
  if (location.dir === DEBIAN_DIR) return 'reinstall the package: apt-get install --reinstall dataset-fashion-mnist';
  return `replace the file with a good copy (this copy comes from ${location.via})`;
}

function gunzip(file: string): Uint8Array {
  const compressed = readFileSync(file);
  try {
    return gunzipSync(compressed);
  } catch (error) {
    throw corruptDataFile(file, `not a complete gzip file (${(error as Error).message})`);
  }
}

type IdxFile = { dims: number[]; data: Uint8Array; file: string };

function pair(images: IdxFile, labels: IdxFile): LabelledImages {
  const count = labels.dims[0]!;
  if (images.dims[0] !== count || images.data.length !== count * PIXELS) {
    throw corruptDataFile(labels.file, `${count} labels do not match ${images.file}, which holds ${images.dims.join('×')} images (28×28 each, one per label)`);
  }
  // A label past the last class would only fail later, deep inside one-hot encoding or the confusion matrix.
  const bad = labels.data.findIndex((label) => label >= CLASS_COUNT);
  if (bad >= 0) throw corruptDataFile(labels.file, `label ${labels.data[bad]} of item ${bad} is not a class (labels are 0 to ${CLASS_COUNT - 1})`);
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
