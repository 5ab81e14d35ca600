import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

// Each run keeps its files (the saved model) in `<runs dir>/<run id>/`, the runs dir being `runsDirFor` its database.

/** The folder name of a run: its id, as the store makes them. */
export const RUN_ID = /^[0-9a-f]{8}-[0-9a-f]{4,8}$/;

/**
 * The config hash's first 8 hex digits, so runs of one config sort together, then 8 random ones for its repeats and
 * re-runs: with 4 (runs before 2026-11-26), a config run a hundred times had an 8% chance of drawing an id twice.
 */
export function newRunId(configHash: string): string {
  return `${configHash.slice(0, 8)}-${randomBytes(4).toString('hex')}`;
}

/**
 * Where a database's run folders are: `runs/` beside it. For the default `runs/runs.sqlite` that is the database's own
 * folder; `--db ~/x.sqlite` gets `~/runs/`, so run folders never mix with whatever else is beside the database.
 */
export function runsDirFor(dbPath: string): string {
  const dir = dirname(dbPath);
  return basename(dir) === 'runs' ? dir : join(dir, 'runs');
}

export function runFolder(runsDir: string, runId: string): string {
  return join(runsDir, runId);
}

/** The trained model a completed run saved. */
export function modelDirOf(runsDir: string, runId: string): string {
  return join(runFolder(runsDir, runId), 'model');
}

/** The state a trial saves at each epoch's end, to continue from when it is stopped (interrupted, or paused at an ASHA rung). */
export function checkpointDirOf(runsDir: string, runId: string): string {
  return join(runFolder(runsDir, runId), 'checkpoint');
}

export function removeRunFolder(runsDir: string, runId: string): void {
  rmSync(runFolder(runsDir, runId), { recursive: true, force: true });
}

/**
 * What a run that stopped before its end leaves: a killed trial may have left half a model, never a half checkpoint
 * (it is replaced whole), so the model goes and the checkpoint stays for the run to continue from.
 */
export function removeUnfinishedModel(runsDir: string, runId: string): void {
  const model = modelDirOf(runsDir, runId);
  rmSync(model, { recursive: true, force: true });
  rmSync(`${model}.partial`, { recursive: true, force: true });
}

/** `removeUnfinishedModel` for each of `runIds`: what runs reclaimed from a lapsed lease may have left behind. */
export function removeUnfinishedModels(runsDir: string, runIds: readonly string[]): void {
  for (const runId of runIds) removeUnfinishedModel(runsDir, runId);
}

/** A checkpoint is only worth its space while the run may continue. */
export function removeCheckpoint(runsDir: string, runId: string): void {
  rmSync(checkpointDirOf(runsDir, runId), { recursive: true, force: true });
}

/**
 * The folder a recorded run keeps its files in: its saved model's parent where it saved one (databases made before
 * `runsDirFor` kept `--db ~/x.sqlite`'s folders beside it), else its place in the runs dir.
 */
export function folderOfRun(runsDir: string, run: { id: string; modelDir: string | null }): string {
  const saved = run.modelDir ? dirname(run.modelDir) : undefined;
  return saved && basename(saved) === run.id ? saved : runFolder(runsDir, run.id);
}

/** Other run databases whose runs dir is `runsDir`: what looks orphaned to one of them may be another's. */
export function databasesSharing(runsDir: string, dbPath: string): string[] {
  const candidates = [dirname(dbPath), runsDir, dirname(runsDir)].flatMap((dir) => {
    try {
      return readdirSync(dir).filter((name) => name.endsWith('.sqlite')).map((name) => join(dir, name));
    } catch {
      return [];
    }
  });
  return [...new Set(candidates)].filter((path) => path !== dbPath && runsDirFor(path) === runsDir);
}

/** Folders named like a run that the database no longer knows: left by a deleted database row or a copied folder. */
export function orphanFolders(runsDir: string, knownIds: ReadonlySet<string>): string[] {
  let entries;
  try {
    entries = readdirSync(runsDir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.filter((e) => e.isDirectory() && RUN_ID.test(e.name) && !knownIds.has(e.name)).map((e) => e.name);
}

/** Bytes under a path, 0 when it does not exist. */
export function diskUsage(path: string): number {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    return 0;
  }
  if (!stats.isDirectory()) return stats.size;
  return readdirSync(path).reduce((sum, name) => sum + diskUsage(join(path, name)), 0);
}
