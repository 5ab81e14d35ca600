import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte.gz',
  trainLabels: 'train-labels-idx1-ubyte.gz',
  testImages: 't10k-images-idx3-ubyte.gz',
  testLabels: 't10k-labels-idx1-ubyte.gz',
} as const;
export const CSV_FILES = { train: 'fashion-mnist_train.csv', test: 'fashion-mnist_test.csv' } as const;
export const DEBIAN_DIR = '/usr/share/datasets/fashion-mnist';

export interface DataSearch {
  /** `data.path` of the experiment file, already absolute. */
  experimentPath?: string;
  /** `--data-dir`. */
  dataDir?: string;
}

export interface DataLocation {
  dir: string;
  format: 'idx' | 'csv';
  /** Which rule found it, for `runner doctor` and logs. */
  via: string;
}

export function cacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'runner', 'fashion-mnist');
}

export type PlaceId = 'experiment' | 'dataDir' | 'environment' | 'cache' | 'debian';

/** A place searched: `via` names its rule in messages, `id` tells it from the others. */
export interface SearchPlace {
  id: PlaceId;
  dir: string;
  via: string;
}

/** Places the user named (data.path, --data-dir, FASHION_MNIST_DIR), as opposed to the ones always searched. */
const EXPLICIT = new Set<PlaceId>(['experiment', 'dataDir', 'environment']);

/** Every place searched, in order. */
export function searchPath(search: DataSearch): SearchPlace[] {
  const places: (Omit<SearchPlace, 'dir'> & { dir: string | undefined })[] = [
    { id: 'experiment', dir: search.experimentPath, via: 'data.path in the experiment file' },
    { id: 'dataDir', dir: search.dataDir, via: '--data-dir' },
    { id: 'environment', dir: process.env.FASHION_MNIST_DIR, via: 'FASHION_MNIST_DIR' },
    { id: 'cache', dir: cacheDir(), via: 'the user cache' },
    { id: 'debian', dir: DEBIAN_DIR, via: "Debian's dataset-fashion-mnist package" },
  ];
  return places.filter((p): p is SearchPlace => Boolean(p.dir));
}

export function formatIn(dir: string): 'idx' | 'csv' | undefined {
  if (Object.values(IDX_FILES).every((f) => existsSync(join(dir, f)))) return 'idx';
  if (Object.values(CSV_FILES).every((f) => existsSync(join(dir, f)))) return 'csv';
  return undefined;
}

/** The first place that holds a complete copy; an explicit place that does not is an error, not a silent skip. */
export function locateDataset(search: DataSearch): DataLocation | { missingExplicit: SearchPlace } | undefined {
  for (const place of searchPath(search)) {
    const format = formatIn(place.dir);
    if (format) return { dir: place.dir, format, via: place.via };
    if (EXPLICIT.has(place.id)) return { missingExplicit: place };
  }
  return undefined;
}

/** The first copy in the places searched after `missing`: what to mention when a named place lacks it. */
export function locateAfter(search: DataSearch, missing: SearchPlace): DataLocation | undefined {
  const places = searchPath(search);
  for (const place of places.slice(places.findIndex((p) => p.id === missing.id) + 1)) {
    const format = formatIn(place.dir);
    if (format) return { dir: place.dir, format, via: place.via };
  }
  return undefined;
}
