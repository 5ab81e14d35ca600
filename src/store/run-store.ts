import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import type { EpochRecord } from '../trial/train.js';
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
  config: string;
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
  classMetrics?: unknown;
  mistakes?: unknown;
  modelDir?: string;
}

export interface RunRow {
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
}

export interface RunFilter {
  experiment?: string;
  branch?: string;
  status?: RunStatus;
  since?: string;
}

const now = () => new Date().toISOString();

export class RunStore {
  private readonly db: Database.Database;

  constructor(readonly path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // Several runner processes may share one database; wait for a writer instead of failing.
    this.db.pragma('busy_timeout = 15000');
    this.db.pragma('foreign_keys = ON');
    this.migrate();
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

  runs(filter: RunFilter = {}): RunRow[] {
    const where: string[] = [];
    const args: Record<string, unknown> = {};
    if (filter.experiment) (where.push('experiment = @experiment'), (args.experiment = filter.experiment));
    if (filter.branch) (where.push('git_branch = @branch'), (args.branch = filter.branch));
    if (filter.status) (where.push('status = @status'), (args.status = filter.status));
    if (filter.since) (where.push('started_at >= @since'), (args.since = filter.since));
    const sql = `SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at, id`;
    return this.db.prepare(sql).all(args) as RunRow[];
  }

  /** A run by id or by a unique id prefix. */
  run(idOrPrefix: string): RunRow | undefined {
    const rows = this.db.prepare(`SELECT * FROM runs WHERE id LIKE ? ORDER BY id LIMIT 2`).all(`${idOrPrefix.replace(/[%_]/g, '')}%`) as RunRow[];
    return rows.length === 1 ? rows[0] : rows.find((r) => r.id === idOrPrefix);
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
    return this.db
      .prepare(
        `SELECT r.experiment, r.config_hash AS configHash, r.config_json AS config, r.backend, json_extract(r.device_json, '$.device') AS device, COUNT(*) AS epochs,
           SUM(e.seconds) AS epochSeconds, SUM(CASE WHEN e.epoch = 1 THEN e.seconds END) AS firstEpochSeconds,
           CASE WHEN COUNT(e.val_seconds) = COUNT(*) THEN SUM(e.val_seconds) END AS validationSeconds,
           SUM(CASE WHEN e.epoch = 1 THEN e.val_seconds END) AS firstValidationSeconds, r.test_seconds AS testSeconds,
           (julianday(r.finished_at) - julianday(r.started_at)) * 86400 AS wallSeconds
         FROM runs r JOIN epochs e ON e.run_id = r.id WHERE r.status = 'completed' GROUP BY r.id`,
      )
      .all() as RunTiming[];
  }

  counts(): { runs: number; sweeps: number } {
    return {
      runs: (this.db.prepare('SELECT COUNT(*) AS n FROM runs').get() as { n: number }).n,
      sweeps: (this.db.prepare('SELECT COUNT(*) AS n FROM sweeps').get() as { n: number }).n,
    };
  }
}

/** SQLite stores NaN as NULL anyway; say so explicitly for diverged runs. */
function finite(value: number | undefined): number | null {
  return value === undefined || !Number.isFinite(value) ? null : value;
}
