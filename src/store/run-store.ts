import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import type { TrialConfig } from '../config/resolved.js';
import { UserError } from '../errors.js';
import type { ClassMetrics, EpochRecord, Mistake } from '../trial/records.js';
import { MIGRATIONS } from './migrations.js';

/** The only module that speaks SQL. Only the parent process writes; workers send their results to it. */
export type RunStatus = 'running' | 'completed' | 'failed' | 'diverged' | 'interrupted';

export interface NewRun {
  id: string;
  sweepId: number;
  experiment: string;
  file: string;
  config: unknown;
  configHash: string;
  params: Record<string, unknown>;
  seed: number;
  repeatIndex: number;
  git: { commit?: string; branch?: string; dirty?: boolean };
  backend: string;
}

/** One epoch as the trainer reports it and the store keeps it; epochs recorded before schema 2 lack the validation time. */
export type EpochRow = Omit<EpochRecord, 'validationSeconds'> & { validationSeconds: number | null };

/** The GPU a run trained on, as the WebGPU adapter describes itself (`description` holds the driver). */
export interface GpuDevice {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

/** What one completed run cost, from claim to record, for duration estimates. */
export interface RunTiming {
  experiment: string;
  configHash: string;
  config: TrialConfig;
  backend: string | null;
  /** The GPU's device name for runs on one (webgpu): a SwiftShader run and an H200 run are not the same speed. */
  device: string | null;
  epochs: number;
  /** Sum over its epochs, training and validation. */
  epochSeconds: number;
  /** The first epoch alone, which also pays for warming up the backend. */
  firstEpochSeconds: number;
  /** Null for runs recorded before validation and test time were kept apart. */
  validationSeconds: number | null;
  firstValidationSeconds: number | null;
  testSeconds: number | null;
  /** Claim to record, in the parent: process start, backend, data, training, test, saving. */
  wallSeconds: number;
}

export interface RunOutcome {
  status: Exclude<RunStatus, 'running'>;
  error?: string;
  seconds?: number;
  paramCount?: number;
  bestEpoch?: number;
  gpu?: boolean;
  tfjsVersion?: string;
  backend?: string;
  /** The GPU adapter trained on, when the backend reports one. */
  device?: GpuDevice;
  testLoss?: number;
  testAccuracy?: number;
  testSeconds?: number;
  confusion?: number[][];
  classMetrics?: ClassMetrics[];
  mistakes?: Mistake[];
  modelDir?: string;
}

/**
 * A recorded run as every reader gets it: JSON columns parsed, flags as booleans, camelCase. `--json` prints
 * this shape as it is, so it is a stable interface (README, "Machine-readable output").
 */
export interface Run {
  id: string;
  sweepId: number;
  experiment: string;
  file: string;
  /** The resolved trial config as the runner that trained it wrote it: an older runner's may lack newer fields. */
  config: TrialConfig;
  configHash: string;
  /** The swept values that made this trial, `seed` included where repeats or a swept seed tell runs apart. */
  params: Record<string, unknown>;
  seed: number;
  repeatIndex: number;
  git: { commit: string | null; branch: string | null; dirty: boolean | null };
  backend: string | null;
  gpu: boolean | null;
  tfjsVersion: string | null;
  device: GpuDevice | null;
  host: string;
  pid: number;
  status: RunStatus;
  error: string | null;
  /** Labels and a note people attached after the fact (`runner tag`, `runner note`). */
  tags: Record<string, string>;
  note: string | null;
  startedAt: string;
  finishedAt: string | null;
  seconds: number | null;
  paramCount: number | null;
  epochsDone: number;
  bestEpoch: number | null;
  testLoss: number | null;
  testAccuracy: number | null;
  testSeconds: number | null;
  /** Rows: true class, columns: predicted; null for runs that never finished. */
  confusion: number[][] | null;
  classMetrics: ClassMetrics[] | null;
  /** The first misclassified test images. */
  mistakes: Mistake[];
  modelDir: string | null;
}

/** A row of `runs` as SQLite returns it; it never leaves this module. */
interface RunRow {
  id: string;
  sweep_id: number;
  experiment: string;
  file: string;
  config_json: string;
  config_hash: string;
  params_json: string;
  seed: number;
  repeat_index: number;
  git_commit: string | null;
  git_branch: string | null;
  git_dirty: number | null;
  backend: string | null;
  gpu: number | null;
  tfjs_version: string | null;
  device_json: string | null;
  host: string;
  pid: number;
  status: RunStatus;
  error: string | null;
  started_at: string;
  finished_at: string | null;
  seconds: number | null;
  param_count: number | null;
  epochs_done: number;
  best_epoch: number | null;
  test_loss: number | null;
  test_accuracy: number | null;
  test_seconds: number | null;
  confusion_json: string | null;
  class_metrics_json: string | null;
  mistakes_json: string | null;
  model_dir: string | null;
  note: string | null;
  tags_json: string;
}

export interface RunFilter {
  experiment?: string;
  branch?: string;
  status?: RunStatus;
  since?: string;
  /** Every one of these tags, with these values. */
  tags?: Record<string, string>;
}

/** A run as `rm` and `gc` remove it: enough to say what went. */
export interface RemovableRun {
  id: string;
  experiment: string;
  status: RunStatus;
  startedAt: string;
}

/** A run's own columns and its tags as one JSON object ('{}' when it has none). */
const RUN_COLUMNS = `runs.*, (SELECT json_group_object(key, value) FROM run_tags WHERE run_id = runs.id) AS tags_json`;

const now = () => new Date().toISOString();

export class RunStore {
  private readonly db: Database.Database;

  /**
   * `readonly` is for readers that must never write (`runner ui`): SQLite refuses every write on that connection,
   * and nothing is migrated or switched to WAL. A file of another schema is refused rather than upgraded behind the
   * reader's back; any other command upgrades it.
   */
  constructor(readonly path: string, options: { readonly?: boolean } = {}) {
    if (options.readonly) {
      this.db = new Database(path, { readonly: true, fileMustExist: true });
      this.db.pragma('busy_timeout = 15000');
      this.refuseOtherSchema();
      return;
    }
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // Several runner processes may share one database; wait for a writer instead of failing.
    this.db.pragma('busy_timeout = 15000');
    this.db.pragma('foreign_keys = ON');
    this.migrate();
  }

  private refuseOtherSchema(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version === MIGRATIONS.length) return;
    this.db.close();
    const remedy = version > MIGRATIONS.length ? 'it was written by a newer runner: use that one' : `upgrade it once with \`runner list --db ${this.path}\`, which migrates it, then open it read-only again`;
    throw new UserError(`${this.path} has database schema ${version} and this runner reads schema ${MIGRATIONS.length}: ${remedy}`);
  }

  /** Changes whenever another connection commits to the database: readers poll it to learn that there is something new. */
  dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  close(): void {
    this.db.close();
  }

  private migrate(): void {
    const apply = this.db.transaction(() => {
      const version = this.db.pragma('user_version', { simple: true }) as number;
      if (version > MIGRATIONS.length) {
        throw new Error(`${this.path} was written by a newer runner (schema ${version}, this one knows ${MIGRATIONS.length})`);
      }
      MIGRATIONS.slice(version).forEach((sql) => this.db.exec(sql));
      this.db.pragma(`user_version = ${MIGRATIONS.length}`);
    });
    apply.immediate();
  }

  startSweep(command: string): number {
    const info = this.db.prepare(`INSERT INTO sweeps (command, started_at, pid, status) VALUES (?, ?, ?, 'running')`).run(command, now(), process.pid);
    return Number(info.lastInsertRowid);
  }

  finishSweep(id: number, status: 'finished' | 'interrupted' | 'failed'): void {
    this.db.prepare(`UPDATE sweeps SET status = ?, finished_at = ? WHERE id = ?`).run(status, now(), id);
  }

  /**
   * Runs left `running` by a process on this host that no longer exists (kill -9, power loss) become
   * `interrupted`, so that they are run again. Returns their ids.
   */
  recoverAbandoned(isAlive: (pid: number) => boolean): string[] {
    const host = hostname();
    const stale = (this.db.prepare(`SELECT id, pid FROM runs WHERE status = 'running' AND host = ?`).all(host) as { id: string; pid: number }[]).filter((r) => !isAlive(r.pid));
    const mark = this.db.prepare(`UPDATE runs SET status = 'interrupted', error = 'the runner process died while this run was training', finished_at = ? WHERE id = ? AND status = 'running'`);
    this.db.transaction(() => stale.forEach((r) => mark.run(now(), r.id)))();
    const sweeps = this.db.prepare(`SELECT id, pid FROM sweeps WHERE status = 'running'`).all() as { id: number; pid: number }[];
    sweeps.filter((s) => !isAlive(s.pid)).forEach((s) => this.finishSweep(s.id, 'interrupted'));
    return stale.map((r) => r.id);
  }

  /** Config hashes already completed on this branch: a sweep skips them unless forced. */
  completedHashes(branch: string | undefined): Set<string> {
    const rows = this.db.prepare(`SELECT DISTINCT config_hash FROM runs WHERE status = 'completed' AND git_branch IS ?`).all(branch ?? null) as { config_hash: string }[];
    return new Set(rows.map((r) => r.config_hash));
  }

  /**
   * Records `run` as running unless its config is already completed on its branch (when not forced) or is
   * being trained right now by a live process. Check and insert happen in one write transaction, so two
   * sweeps on one database split the work instead of doing it twice.
   */
  claimRun(run: NewRun, options: { force: boolean; isAlive: (pid: number) => boolean }): boolean {
    const claim = this.db.transaction(() => {
      const others = this.db
        .prepare(`SELECT status, pid, host FROM runs WHERE config_hash = ? AND git_branch IS ? AND status IN ('completed', 'running')`)
        .all(run.configHash, run.git.branch ?? null) as { status: RunStatus; pid: number; host: string }[];
      const taken = others.some((o) => (o.status === 'completed' && !options.force) || (o.status === 'running' && (o.host !== hostname() || options.isAlive(o.pid))));
      if (taken) return false;
      this.startRun(run);
      return true;
    });
    return claim.immediate();
  }

  startRun(run: NewRun): void {
    this.db
      .prepare(
        `INSERT INTO runs (id, sweep_id, experiment, file, config_json, config_hash, params_json, seed, repeat_index,
          git_commit, git_branch, git_dirty, backend, host, pid, status, started_at)
         VALUES (@id, @sweepId, @experiment, @file, @config, @configHash, @params, @seed, @repeatIndex,
          @commit, @branch, @dirty, @backend, @host, @pid, 'running', @startedAt)`,
      )
      .run({
        ...run,
        config: JSON.stringify(run.config),
        params: JSON.stringify(run.params),
        commit: run.git.commit ?? null,
        branch: run.git.branch ?? null,
        dirty: run.git.dirty === undefined ? null : Number(run.git.dirty),
        host: hostname(),
        pid: process.pid,
        startedAt: now(),
      });
  }

  recordEpoch(runId: string, e: EpochRow): void {
    this.db.transaction(() => {
      this.db
        .prepare(`INSERT OR REPLACE INTO epochs (run_id, epoch, loss, accuracy, val_loss, val_accuracy, seconds, val_seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(runId, e.epoch, finite(e.loss), finite(e.accuracy), finite(e.valLoss), finite(e.valAccuracy), e.seconds, e.validationSeconds);
      this.db.prepare(`UPDATE runs SET epochs_done = ? WHERE id = ?`).run(e.epoch, runId);
    })();
  }

  /** Everything about a finished run lands in one statement, so a run is never half-recorded. */
  finishRun(runId: string, o: RunOutcome): void {
    this.db
      .prepare(
        `UPDATE runs SET status = @status, error = @error, finished_at = @finishedAt, seconds = @seconds, param_count = @paramCount,
          best_epoch = @bestEpoch, gpu = @gpu, tfjs_version = @tfjsVersion, backend = COALESCE(@backend, backend), device_json = @device,
          test_loss = @testLoss, test_accuracy = @testAccuracy, test_seconds = @testSeconds, confusion_json = @confusion, class_metrics_json = @classMetrics,
          mistakes_json = @mistakes, model_dir = @modelDir
         WHERE id = @runId`,
      )
      .run({
        runId,
        status: o.status,
        error: o.error ?? null,
        finishedAt: now(),
        seconds: o.seconds ?? null,
        paramCount: o.paramCount ?? null,
        bestEpoch: o.bestEpoch ?? null,
        gpu: o.gpu === undefined ? null : Number(o.gpu),
        tfjsVersion: o.tfjsVersion ?? null,
        backend: o.backend ?? null,
        device: o.device ? JSON.stringify(o.device) : null,
        testLoss: finite(o.testLoss),
        testAccuracy: finite(o.testAccuracy),
        testSeconds: o.testSeconds ?? null,
        confusion: o.confusion ? JSON.stringify(o.confusion) : null,
        classMetrics: o.classMetrics ? JSON.stringify(o.classMetrics) : null,
        mistakes: o.mistakes ? JSON.stringify(o.mistakes) : null,
        modelDir: o.modelDir ?? null,
      });
  }

  runs(filter: RunFilter = {}): Run[] {
    const where: string[] = [];
    const args: Record<string, unknown> = {};
    if (filter.experiment) (where.push('experiment = @experiment'), (args.experiment = filter.experiment));
    if (filter.branch) (where.push('git_branch = @branch'), (args.branch = filter.branch));
    if (filter.status) (where.push('status = @status'), (args.status = filter.status));
    if (filter.since) (where.push('started_at >= @since'), (args.since = filter.since));
    Object.entries(filter.tags ?? {}).forEach(([key, value], i) => {
      where.push(`EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = runs.id AND t.key = @tagKey${i} AND t.value = @tagValue${i})`);
      args[`tagKey${i}`] = key;
      args[`tagValue${i}`] = value;
    });
    const sql = `SELECT ${RUN_COLUMNS} FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at, id`;
    return (this.db.prepare(sql).all(args) as RunRow[]).map(toRun);
  }

  /** A run by id or by a unique id prefix. */
  run(idOrPrefix: string): Run | undefined {
    const rows = this.db.prepare(`SELECT ${RUN_COLUMNS} FROM runs WHERE id LIKE ? ORDER BY id LIMIT 2`).all(`${idOrPrefix.replace(/[%_]/g, '')}%`) as RunRow[];
    const row = rows.length === 1 ? rows[0] : rows.find((r) => r.id === idOrPrefix);
    return row && toRun(row);
  }

  /** Ids starting with `prefix`, to explain why `run(prefix)` found nothing (none, or several). */
  runIdsWithPrefix(prefix: string, limit = 5): string[] {
    const rows = this.db.prepare(`SELECT id FROM runs WHERE substr(id, 1, length(?)) = ? ORDER BY id LIMIT ?`).all(prefix, prefix, limit) as { id: string }[];
    return rows.map((r) => r.id);
  }

  epochs(runId: string): EpochRow[] {
    return this.db
      .prepare(`SELECT epoch, loss, accuracy, val_loss AS valLoss, val_accuracy AS valAccuracy, seconds, val_seconds AS validationSeconds FROM epochs WHERE run_id = ? ORDER BY epoch`)
      .all(runId) as EpochRow[];
  }

  /** What every completed run cost, for duration estimates. */
  runTimings(): RunTiming[] {
    const timings = this.db
      .prepare(
        `SELECT r.experiment, r.config_hash AS configHash, r.config_json AS config, r.backend, json_extract(r.device_json, '$.device') AS device, COUNT(*) AS epochs,
           SUM(e.seconds) AS epochSeconds, SUM(CASE WHEN e.epoch = 1 THEN e.seconds END) AS firstEpochSeconds,
           CASE WHEN COUNT(e.val_seconds) = COUNT(*) THEN SUM(e.val_seconds) END AS validationSeconds,
           SUM(CASE WHEN e.epoch = 1 THEN e.val_seconds END) AS firstValidationSeconds, r.test_seconds AS testSeconds,
           (julianday(r.finished_at) - julianday(r.started_at)) * 86400 AS wallSeconds
         FROM runs r JOIN epochs e ON e.run_id = r.id WHERE r.status = 'completed' GROUP BY r.id`,
      )
      .all() as (Omit<RunTiming, 'config'> & { config: string })[];
    return timings.map((t) => ({ ...t, config: JSON.parse(t.config) as TrialConfig }));
  }

  /** Sets each tag to its value (a tag a run already has is overwritten) and removes the tags named in `remove`. */
  tagRun(runId: string, tags: Record<string, string>, remove: readonly string[] = []): void {
    const upsert = this.db.prepare(`INSERT INTO run_tags (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value`);
    const drop = this.db.prepare(`DELETE FROM run_tags WHERE run_id = ? AND key = ?`);
    this.db.transaction(() => {
      remove.forEach((key) => drop.run(runId, key));
      Object.entries(tags).forEach(([key, value]) => upsert.run(runId, key, value));
    })();
  }

  /** Replaces a run's note; null removes it. */
  noteRun(runId: string, note: string | null): void {
    this.db.prepare(`UPDATE runs SET note = ? WHERE id = ?`).run(note, runId);
  }

  tagsOf(runId: string): Record<string, string> {
    const rows = this.db.prepare(`SELECT key, value FROM run_tags WHERE run_id = ? ORDER BY key`).all(runId) as { key: string; value: string }[];
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  }

  /** Runs that did not complete (failed, diverged, interrupted), started before `before` when given: what `gc` removes. */
  unfinishedRuns(before?: string): RemovableRun[] {
    return this.db
      .prepare(
        `SELECT id, experiment, status, started_at AS startedAt FROM runs
         WHERE status IN ('failed', 'diverged', 'interrupted') AND (@before IS NULL OR started_at < @before) ORDER BY started_at, id`,
      )
      .all({ before: before ?? null }) as RemovableRun[];
  }

  /** Deletes runs with their epochs and tags, in one transaction. A run that is training is never removed. */
  removeRuns(ids: readonly string[]): void {
    const remove = this.db.prepare(`DELETE FROM runs WHERE id = ? AND status <> 'running'`);
    this.db.transaction(() => ids.forEach((id) => remove.run(id)))();
  }

  runIds(): Set<string> {
    return new Set((this.db.prepare(`SELECT id FROM runs`).all() as { id: string }[]).map((r) => r.id));
  }

  counts(): { runs: number; sweeps: number } {
    return {
      runs: (this.db.prepare('SELECT COUNT(*) AS n FROM runs').get() as { n: number }).n,
      sweeps: (this.db.prepare('SELECT COUNT(*) AS n FROM sweeps').get() as { n: number }).n,
    };
  }
}

function toRun(row: RunRow): Run {
  return {
    id: row.id,
    sweepId: row.sweep_id,
    experiment: row.experiment,
    file: row.file,
    config: JSON.parse(row.config_json) as TrialConfig,
    configHash: row.config_hash,
    params: JSON.parse(row.params_json) as Record<string, unknown>,
    seed: row.seed,
    repeatIndex: row.repeat_index,
    git: { commit: row.git_commit, branch: row.git_branch, dirty: flag(row.git_dirty) },
    backend: row.backend,
    gpu: flag(row.gpu),
    tfjsVersion: row.tfjs_version,
    device: parsed<GpuDevice>(row.device_json),
    host: row.host,
    pid: row.pid,
    status: row.status,
    error: row.error,
    tags: JSON.parse(row.tags_json) as Record<string, string>,
    note: row.note,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    seconds: row.seconds,
    paramCount: row.param_count,
    epochsDone: row.epochs_done,
    bestEpoch: row.best_epoch,
    testLoss: row.test_loss,
    testAccuracy: row.test_accuracy,
    testSeconds: row.test_seconds,
    confusion: parsed<number[][]>(row.confusion_json),
    classMetrics: parsed<ClassMetrics[]>(row.class_metrics_json),
    mistakes: parsed<Mistake[]>(row.mistakes_json) ?? [],
    modelDir: row.model_dir,
  };
}

function parsed<T>(json: string | null): T | null {
  return json === null ? null : (JSON.parse(json) as T);
}

/** SQLite has no boolean: 0/1, or NULL where it was not recorded. */
function flag(value: number | null): boolean | null {
  return value === null ? null : Boolean(value);
}

/** SQLite stores NaN as NULL anyway; say so explicitly for diverged runs. */
function finite(value: number | undefined): number | null {
  return value === undefined || !Number.isFinite(value) ? null : value;
}
