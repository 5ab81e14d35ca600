import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { TrialConfig } from '../config/resolved.js';
import { UserError } from '../errors.js';
import type { FinalStatus, RunStatus } from '../run-status.js';
import type { ClassMetrics, EpochRecord, Mistake } from '../trial/records.js';
import { MIGRATIONS } from './migrations.js';

/**
 * A runner's hold on the rows it works on (its sweep and running trials). It renews them every few seconds; a row
 * whose lease lapsed (its runner killed, frozen, or cut off from the database) is anyone's to reclaim, whatever host
 * or pid it names: host names and pids repeat across containers that share a volume, a lease owner does not.
 */
export interface Lease {
  /** Random per runner process. */
  owner: string;
  /** How long a row stays held without a renewal. */
  seconds: number;
}

/**
 * How a claim ended: the trial is ours to train in a new run, ours to continue in an earlier run (interrupted, or
 * paused at an epoch budget below the one asked for), already completed, or held by another runner's live lease.
 */
export type ClaimOutcome = 'claimed' | 'continued' | 'completed' | 'running-elsewhere';

/** A claim's outcome, the run it concerns (new, continued, or the one that holds it), and the runs reclaimed on the way. */
export interface Claim {
  outcome: ClaimOutcome;
  runId: string;
  reclaimed: string[];
  /** For a continued run: the epochs recorded for it so far. */
  epochsDone?: number;
}

/** How far a trial got, as its latest run on a branch has it: what a search strategy decides from. */
export interface TrialProgress {
  status: RunStatus;
  /** The epoch it was last asked to stop at; null when asked for all of train.epochs (or when it reached its end). */
  epochBudget: number | null;
  epochs: EpochRow[];
  /** Held by another runner's live lease. */
  leasedElsewhere: boolean;
}

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
  status: FinalStatus;
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
  /** Where it stopped while more epochs remain (an ASHA rung): resumable from its checkpoint. Absent: it reached its end. */
  epochBudget?: number;
  /** The machine that trained it, when not the runner's own (a queue's worker). */
  host?: string;
  /** How its attempts went, when there were several (a queue's worker lost): added to the run's note. */
  attemptsNote?: string;
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
  /** A completed run with a budget stopped there with epochs left (an ASHA rung); null when it trained to its end. */
  epochBudget: number | null;
  /** Times it was started: more than one when it continued from a checkpoint (resumed, or promoted by ASHA). */
  attempts: number;
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
  /** Until when the runner training it holds a `running` run; null for runs of a runner older than leases. */
  leaseExpiresAt: string | null;
  /** A `running` run whose lease lapsed: nobody is training it any more, and the next sweep runs it again. */
  stale: boolean;
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
  epoch_budget: number | null;
  attempts: number;
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
  lease_owner: string | null;
  lease_expires_at: string | null;
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
  /** Where its saved model went, for runs that saved one: the run's folder may be in an earlier layout's place. */
  modelDir: string | null;
}

/** A run's own columns and its tags as one JSON object ('{}' when it has none). */
const RUN_COLUMNS = `runs.*, (SELECT json_group_object(key, value) FROM run_tags WHERE run_id = runs.id) AS tags_json`;

const now = () => new Date().toISOString();
const leaseExpiry = (lease: Lease) => new Date(Date.now() + lease.seconds * 1000).toISOString();
/** Rows (runs or sweeps) nobody holds any more; `@now` is the current time. Timestamps are ISO strings in UTC, so they compare as text. */
const LAPSED = `status = 'running' AND (lease_expires_at IS NULL OR lease_expires_at <= @now)`;

/** The only module that speaks SQL. Only the parent process writes; workers send their results to it. */
export class RunStore {
  private readonly db: Database.Database;

  /**
   * `readonly` is for the commands that only read (list, report, show, compare, diff, export-model, doctor, ui):
   * SQLite refuses every write on that connection, and nothing is migrated or switched to WAL, so a database in a
   * read-only file or directory can be read. An older schema is read from an upgraded in-memory copy, the file left as
   * it is (such a copy does not see later commits). Anything else opens for writing, migrating the file and checking it
   * first. A file that cannot serve as the run database is a UserError naming it, not a stack trace.
   */
  constructor(readonly path: string, options: { readonly?: boolean } = {}) {
    try {
      this.db = options.readonly ? openForReading(path) : openForWriting(path);
    } catch (error) {
      throw unusableDatabase(path, error);
    }
  }

  /** SQLite's complaint about this database file (damaged, unreadable) as a UserError naming it; any other error unchanged. */
  asUserError(error: unknown): unknown {
    return error instanceof Database.SqliteError ? unusableDatabase(this.path, error) : error;
  }

  /** What SQLite's structural check finds wrong with the file (at most `limit` problems); empty when it is sound. */
  damage(limit = 10): string[] {
    try {
      return structuralProblems(this.db, limit);
    } catch (error) {
      return [(error as Error).message];
    }
  }

  /** Changes whenever another connection commits to the database: readers poll it to learn that there is something new. */
  dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  /** Whether this reader holds an in-memory copy of the file (see the constructor), which later commits do not reach. */
  get isSnapshot(): boolean {
    return this.db.memory && this.path !== ':memory:';
  }

  close(): void {
    this.db.close();
  }

  startSweep(command: string, lease?: Lease): number {
    const info = this.db
      .prepare(`INSERT INTO sweeps (command, started_at, pid, status, lease_owner, lease_expires_at) VALUES (?, ?, ?, 'running', ?, ?)`)
      .run(command, now(), process.pid, lease?.owner ?? null, lease ? leaseExpiry(lease) : null);
    return Number(info.lastInsertRowid);
  }

  finishSweep(id: number, status: 'finished' | 'interrupted' | 'failed'): void {
    this.db.prepare(`UPDATE sweeps SET status = ?, finished_at = ? WHERE id = ?`).run(status, now(), id);
  }

  /**
   * Runs and sweeps whose lease lapsed become `interrupted`, so that they are run again. Returns the runs' ids:
   * their folders hold half a model at most.
   */
  reclaimLapsed(): string[] {
    return this.db.transaction(() => this.reclaim()).immediate();
  }

  private reclaim(): string[] {
    const at = { now: now() };
    const runs = this.db
      .prepare(
        `UPDATE runs SET status = 'interrupted', finished_at = @now,
           error = 'its lease expired: the runner training it (' || host || ', pid ' || pid || ') stopped renewing it (killed, frozen, or cut off from the database)'
         WHERE ${LAPSED} RETURNING id`,
      )
      .all(at) as { id: string }[];
    this.db.prepare(`UPDATE sweeps SET status = 'interrupted', finished_at = @now WHERE ${LAPSED}`).run(at);
    return runs.map((r) => r.id);
  }

  /** Keeps every row `lease` holds for another `lease.seconds`; returns the runs it still holds. */
  renewLease(lease: Lease): Set<string> {
    const args = { owner: lease.owner, expires: leaseExpiry(lease) };
    return this.db.transaction(() => {
      const held = this.db.prepare(`UPDATE runs SET lease_expires_at = @expires WHERE lease_owner = @owner AND status = 'running' RETURNING id`).all(args) as { id: string }[];
      this.db.prepare(`UPDATE sweeps SET lease_expires_at = @expires WHERE lease_owner = @owner AND status = 'running'`).run(args);
      return new Set(held.map((r) => r.id));
    })();
  }

  /** Config hashes already completed on this branch, to their end (not paused at an epoch budget): a sweep skips them unless forced. */
  completedHashes(branch: string | undefined): Set<string> {
    const rows = this.db
      .prepare(`SELECT DISTINCT config_hash FROM runs WHERE status = 'completed' AND epoch_budget IS NULL AND git_branch IS ?`)
      .all(branch ?? null) as { config_hash: string }[];
    return new Set(rows.map((r) => r.config_hash));
  }

  /** Config hashes some runner is training on this branch right now (its lease is live). */
  leasedHashes(branch: string | undefined): Set<string> {
    const rows = this.db
      .prepare(`SELECT DISTINCT config_hash FROM runs WHERE status = 'running' AND git_branch IS ? AND lease_expires_at > ?`)
      .all(branch ?? null, now()) as { config_hash: string }[];
    return new Set(rows.map((r) => r.config_hash));
  }

  /**
   * The run on `branch` that stands for each of `hashes`, with its epochs: how far each trial of a search got. It is
   * the run a claim would continue (the latest completed or interrupted one), or one running; a failed run is
   * tried again, as a grid's is.
   */
  trialProgress(hashes: Iterable<string>, branch: string | undefined): Map<string, TrialProgress> {
    const latest = this.db.prepare(
      `SELECT id, status, epoch_budget, lease_expires_at FROM runs
       WHERE config_hash = ? AND git_branch IS ? AND status IN ('completed', 'interrupted', 'running', 'diverged')
       ORDER BY status = 'running' DESC, started_at DESC, id DESC LIMIT 1`,
    );
    const progress = new Map<string, TrialProgress>();
    const at = now();
    for (const hash of hashes) {
      const row = latest.get(hash, branch ?? null) as Pick<RunRow, 'id' | 'status' | 'epoch_budget' | 'lease_expires_at'> | undefined;
      if (!row) continue;
      progress.set(hash, {
        status: row.status,
        epochBudget: row.epoch_budget,
        epochs: this.epochs(row.id),
        leasedElsewhere: row.status === 'running' && row.lease_expires_at !== null && row.lease_expires_at > at,
      });
    }
    return progress;
  }

  /**
   * Records `run` as running under `lease`, training through `epochBudget` (all of train.epochs when null). When its
   * config's latest run on the branch was interrupted, or is paused at a smaller budget, that run continues instead
   * (`continued`, with its id): a trial stays one run however often it is stopped. Not when forced, nor when the
   * config is completed on its branch or held by a live lease. Lapsed rows are reclaimed first, in the same write
   * transaction as the check and the write, so two sweeps on one database split the work instead of doing it twice.
   * Returns the reclaimed runs' ids.
   */
  claimRun(run: NewRun, options: { force: boolean; lease: Lease; epochBudget?: number }): Claim {
    const claim = this.db.transaction((): Claim => {
      const reclaimed = this.reclaim();
      const budget = options.epochBudget ?? null;
      const branch = run.git.branch ?? null;
      const start = (): Claim => {
        this.startRun(run, options.lease, budget);
        return { outcome: 'claimed', runId: run.id, reclaimed };
      };
      const held = this.db.prepare(`SELECT 1 FROM runs WHERE config_hash = ? AND git_branch IS ? AND status = 'running' LIMIT 1`).get(run.configHash, branch);
      if (held) return { outcome: 'running-elsewhere', runId: run.id, reclaimed };
      if (options.force) return start();
      const latest = this.db
        .prepare(
          `SELECT id, status, epoch_budget, epochs_done FROM runs WHERE config_hash = ? AND git_branch IS ? AND status IN ('completed', 'interrupted')
           ORDER BY started_at DESC, id DESC LIMIT 1`,
        )
        .get(run.configHash, branch) as Pick<RunRow, 'id' | 'status' | 'epoch_budget' | 'epochs_done'> | undefined;
      if (!latest) return start();
      const paused = latest.status === 'completed' && latest.epoch_budget !== null;
      if (latest.status === 'completed' && !paused) return { outcome: 'completed', runId: latest.id, reclaimed };
      // A paused run asked for no more than it has stays as it is.
      if (paused && budget !== null && budget <= latest.epoch_budget!) return { outcome: 'completed', runId: latest.id, reclaimed };
      this.continueRun(latest.id, run, options.lease, budget);
      return { outcome: 'continued', runId: latest.id, reclaimed, epochsDone: latest.epochs_done };
    });
    return claim.immediate();
  }

  startRun(run: NewRun, lease?: Lease, epochBudget: number | null = null): void {
    this.db
      .prepare(
        `INSERT INTO runs (id, sweep_id, experiment, file, config_json, config_hash, params_json, seed, repeat_index,
          git_commit, git_branch, git_dirty, backend, host, pid, status, started_at, lease_owner, lease_expires_at, epoch_budget)
         VALUES (@id, @sweepId, @experiment, @file, @config, @configHash, @params, @seed, @repeatIndex,
          @commit, @branch, @dirty, @backend, @host, @pid, 'running', @startedAt, @leaseOwner, @leaseExpiresAt, @epochBudget)`,
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
        leaseOwner: lease?.owner ?? null,
        leaseExpiresAt: lease ? leaseExpiry(lease) : null,
        epochBudget,
      });
  }

  /**
   * Puts an interrupted or paused run back to `running` for this runner: its sweep, commit and backend become this
   * attempt's, its test scores and saved model are cleared (they are recorded again when it ends; an interrupted
   * attempt leaves none), its epochs are kept until the trial says which its checkpoint restored.
   */
  private continueRun(runId: string, run: NewRun, lease: Lease, epochBudget: number | null): void {
    this.db
      .prepare(
        `UPDATE runs SET status = 'running', sweep_id = @sweepId, git_commit = @commit, git_dirty = @dirty, backend = @backend,
           host = @host, pid = @pid, error = NULL, finished_at = NULL, lease_owner = @leaseOwner, lease_expires_at = @leaseExpiresAt,
           test_loss = NULL, test_accuracy = NULL, test_seconds = NULL, confusion_json = NULL, class_metrics_json = NULL,
           mistakes_json = NULL, model_dir = NULL, best_epoch = NULL,
           epoch_budget = @epochBudget, attempts = attempts + 1
         WHERE id = @runId`,
      )
      .run({
        runId,
        sweepId: run.sweepId,
        commit: run.git.commit ?? null,
        dirty: run.git.dirty === undefined ? null : Number(run.git.dirty),
        backend: run.backend,
        host: hostname(),
        pid: process.pid,
        leaseOwner: lease.owner,
        leaseExpiresAt: leaseExpiry(lease),
        epochBudget,
      });
  }

  /**
   * Makes a continued run's epochs those its checkpoint restored: epochs recorded after the checkpoint are trained
   * again, and one the checkpoint holds that never reached the database (the runner killed in between) is recorded.
   * None when the trial starts afresh. Nothing changes on a run `lease` no longer holds.
   */
  restoreEpochs(runId: string, restored: readonly EpochRow[], lease?: Lease): void {
    this.db.transaction(() => {
      const held = this.db.prepare(`SELECT 1 FROM runs WHERE id = @runId AND status = 'running' AND (@owner IS NULL OR lease_owner = @owner)`);
      if (!held.get({ runId, owner: lease?.owner ?? null })) return;
      this.db.prepare(`DELETE FROM epochs WHERE run_id = ?`).run(runId);
      this.db.prepare(`UPDATE runs SET epochs_done = 0 WHERE id = ?`).run(runId);
      restored.forEach((record) => this.recordEpoch(runId, record, lease));
    })();
  }

  /** Like `finishRun`, records nothing on a run that is no longer `running` under `lease` (reclaimed after it lapsed). */
  recordEpoch(runId: string, e: EpochRow, lease?: Lease): void {
    this.db.transaction(() => {
      const held = this.db.prepare(`UPDATE runs SET epochs_done = @epoch WHERE id = @runId AND status = 'running' AND (@owner IS NULL OR lease_owner = @owner)`);
      if (held.run({ epoch: e.epoch, runId, owner: lease?.owner ?? null }).changes === 0) return;
      this.db
        .prepare(`INSERT OR REPLACE INTO epochs (run_id, epoch, loss, accuracy, val_loss, val_accuracy, seconds, val_seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(runId, e.epoch, finite(e.loss), finite(e.accuracy), finite(e.valLoss), finite(e.valAccuracy), e.seconds, e.validationSeconds);
    })();
  }

  /**
   * Everything about a finished run lands in one statement, so a run is never half-recorded. Returns false, recording
   * nothing, when the run is no longer `running` under `lease` (when given): its runner lost the lease (frozen longer
   * than it lasts) and another reclaimed the run, and may be training it again, or continuing it.
   */
  finishRun(runId: string, o: RunOutcome, lease?: Lease): boolean {
    const { changes } = this.db
      .prepare(
        `UPDATE runs SET status = @status, error = @error, finished_at = @finishedAt,
          -- A run that continued from a checkpoint took the time of each of its attempts.
          seconds = CASE WHEN @seconds IS NULL THEN seconds ELSE COALESCE(seconds, 0) + @seconds END, param_count = @paramCount,
          best_epoch = @bestEpoch, gpu = @gpu, tfjs_version = @tfjsVersion, backend = COALESCE(@backend, backend), device_json = @device,
          test_loss = @testLoss, test_accuracy = @testAccuracy, test_seconds = @testSeconds, confusion_json = @confusion, class_metrics_json = @classMetrics,
          mistakes_json = @mistakes, model_dir = @modelDir, host = COALESCE(@host, host),
          note = CASE WHEN @attemptsNote IS NULL THEN note WHEN note IS NULL THEN @attemptsNote ELSE note || char(10) || @attemptsNote END,
          -- An interrupted run keeps the budget it was training towards, so that it continues towards it; a diverged one,
          -- so that ASHA knows which rung it failed to reach.
          epoch_budget = CASE WHEN @status IN ('interrupted', 'diverged') THEN epoch_budget ELSE @epochBudget END
         WHERE id = @runId AND status = 'running' AND (@owner IS NULL OR lease_owner = @owner)`,
      )
      .run({
        runId,
        owner: lease?.owner ?? null,
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
        epochBudget: o.epochBudget ?? null,
        host: o.host ?? null,
        attemptsNote: o.attemptsNote ?? null,
      });
    return changes > 0;
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
    // A plain prefix comparison: LIKE would read `%` and `_` in what the user typed as wildcards, and ignore case.
    const rows = this.db.prepare(`SELECT ${RUN_COLUMNS} FROM runs WHERE substr(id, 1, length(@prefix)) = @prefix ORDER BY id LIMIT 2`).all({ prefix: idOrPrefix }) as RunRow[];
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
         FROM runs r JOIN epochs e ON e.run_id = r.id
         -- A run that continued from a checkpoint spent its wall time in pieces, with the pauses between them counted.
         WHERE r.status = 'completed' AND r.attempts = 1 GROUP BY r.id`,
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
        `SELECT id, experiment, status, started_at AS startedAt, model_dir AS modelDir FROM runs
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

/** Busy writers hold their lock for milliseconds; wait for them rather than fail. */
const BUSY_TIMEOUT = 'busy_timeout = 15000';

function openForWriting(path: string): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    db.pragma(BUSY_TIMEOUT);
    // Read before anything is written: a newer runner's file keeps its journal mode and schema.
    refuseNewerSchema(db, path);
    // Writing into a damaged file would bury new results in it.
    const [problem] = structuralProblems(db, 1);
    if (problem !== undefined) throw damaged(path, problem);
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    migrate(db, path);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function openForReading(path: string): Database.Database {
  const db = connectForReading(path);
  try {
    if (refuseNewerSchema(db, path) === MIGRATIONS.length) return db;
    const copy = new Database(rollbackJournalImage(db.serialize()));
    db.close();
    try {
      migrate(copy, path);
      return new Database(copy.serialize(), { readonly: true });
    } finally {
      copy.close();
    }
  } catch (error) {
    if (db.open) db.close();
    throw error;
  }
}

function connectForReading(path: string): Database.Database {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    db.pragma(BUSY_TIMEOUT);
    // The first read is where SQLite opens a WAL database's shared lock file (-shm), creating it when it may.
    db.pragma('user_version');
    return db;
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code !== 'SQLITE_READONLY_DIRECTORY') throw error;
    // A WAL database whose directory this user may not write, so no -shm can be created; no writer has made one
    // either, so none is at work, and the file alone holds the whole database.
    return new Database(rollbackJournalImage(readFileSync(path)), { readonly: true });
  }
}

/**
 * A database image with its journal mode set to rollback (header bytes 18 and 19, the file format versions: 2 for
 * WAL, 1 for rollback), since an in-memory copy has no -wal file beside it and SQLite refuses WAL there.
 */
function rollbackJournalImage(image: Buffer): Buffer {
  if (image.length > 19) image.fill(1, 18, 20);
  return image;
}

function refuseNewerSchema(db: Database.Database, path: string): number {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new UserError(`${path} was written by a newer runner (database schema ${version}; this runner knows schema ${MIGRATIONS.length} and older): use that runner, or give another database with --db / RUNNER_DB`);
  }
  return version;
}

function migrate(db: Database.Database, path: string): void {
  const apply = db.transaction(() => {
    // Read again inside the write lock: another runner may have migrated the file since it was opened.
    const version = refuseNewerSchema(db, path);
    MIGRATIONS.slice(version).forEach((sql) => db.exec(sql));
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  });
  apply.immediate();
}

function damaged(path: string, problem: string): UserError {
  return new UserError(
    `${path} is damaged (${problem}): move it away and start a new database, or restore a copy; \`sqlite3 ${path} .recover\` may save what is left of it`,
  );
}

/** What SQLite or the file system said about a file that cannot be the run database, turned into a UserError that names it. */
function unusableDatabase(path: string, error: unknown): unknown {
  if (error instanceof UserError) return error;
  const code = (error as { code?: string }).code ?? '';
  const reason = (error as Error).message;
  const change = 'point --db or RUNNER_DB at a run database file';
  if (isDirectory(path)) return new UserError(`${path} is a directory, not a run database: ${change}, e.g. ${join(path, 'runs.sqlite')}`);
  if (code === 'SQLITE_NOTADB') return new UserError(`${path} is not an SQLite database (${reason}): ${change}`);
  if (code.startsWith('SQLITE_CORRUPT')) return damaged(path, reason);
  if (code.startsWith('SQLITE_IOERR')) return new UserError(`cannot read ${path} (${reason}): check the disk it is on, and that the file is whole`);
  if (code.startsWith('SQLITE_CANTOPEN') && !existsSync(path)) return new UserError(`no run database at ${path}: run \`runner sweep FILES\` first, or ${change}`);
  if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_READONLY') || ['EACCES', 'EPERM', 'ENOTDIR', 'EROFS'].includes(code)) {
    return new UserError(`cannot open ${path} (${reason}): check that its directory exists and that you may write there, or ${change}`);
  }
  return error;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** SQLite's quick_check: up to `limit` things wrong with the file's structure, none when it is sound. */
function structuralProblems(db: Database.Database, limit: number): string[] {
  const rows = db.pragma(`quick_check(${limit})`) as { quick_check: string }[];
  return rows.map((r) => r.quick_check).filter((problem) => problem !== 'ok');
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
    epochBudget: row.epoch_budget,
    attempts: row.attempts,
    bestEpoch: row.best_epoch,
    testLoss: row.test_loss,
    testAccuracy: row.test_accuracy,
    testSeconds: row.test_seconds,
    confusion: parsed<number[][]>(row.confusion_json),
    classMetrics: parsed<ClassMetrics[]>(row.class_metrics_json),
    mistakes: parsed<Mistake[]>(row.mistakes_json) ?? [],
    modelDir: row.model_dir,
    leaseExpiresAt: row.lease_expires_at,
    stale: row.status === 'running' && !(row.lease_expires_at !== null && row.lease_expires_at > now()),
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
