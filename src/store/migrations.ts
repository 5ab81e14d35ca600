/**
 * Schema history of the run database, oldest first. `PRAGMA user_version` records how many have been applied;
 * a migration is never edited once released, only followed by a new one.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE sweeps (
    id INTEGER PRIMARY KEY,
    command TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    pid INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'interrupted', 'failed'))
  );
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    sweep_id INTEGER REFERENCES sweeps(id),
    experiment TEXT NOT NULL,
    file TEXT NOT NULL,
    config_json TEXT NOT NULL,
    config_hash TEXT NOT NULL,
    params_json TEXT NOT NULL,
    seed INTEGER NOT NULL,
    repeat_index INTEGER NOT NULL,
    git_commit TEXT,
    git_branch TEXT,
    git_dirty INTEGER,
    backend TEXT,
    gpu INTEGER,
    tfjs_version TEXT,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'diverged', 'interrupted')),
    error TEXT,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    seconds REAL,
    param_count INTEGER,
    epochs_done INTEGER NOT NULL DEFAULT 0,
    best_epoch INTEGER,
    test_loss REAL,
    test_accuracy REAL,
    confusion_json TEXT,
    class_metrics_json TEXT,
    mistakes_json TEXT,
    model_dir TEXT
  );
  CREATE INDEX runs_by_hash ON runs(config_hash, git_branch, status);
  CREATE INDEX runs_by_experiment ON runs(experiment, status);
  CREATE TABLE epochs (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL,
    loss REAL,
    accuracy REAL,
    val_loss REAL,
    val_accuracy REAL,
    seconds REAL NOT NULL,
    PRIMARY KEY (run_id, epoch)
  );
  `,
  // Duration estimates scale training by training samples and scoring by scored samples, so they need the two apart.
  `
  ALTER TABLE epochs ADD COLUMN val_seconds REAL;
  ALTER TABLE runs ADD COLUMN test_seconds REAL;
  `,
  // The GPU a run trained on (WebGPU adapter: vendor, architecture, device, description), as JSON.
  `
  ALTER TABLE runs ADD COLUMN device_json TEXT;
  `,
  // Labels and a free-text note that people attach to runs after the fact (runner tag, runner note).
  `
  ALTER TABLE runs ADD COLUMN note TEXT;
  CREATE TABLE run_tags (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
  );
  CREATE INDEX run_tags_by_key ON run_tags(key, value);
  `,
  // Leases replace host + pid liveness: the runner holding a running row (or a sweep) renews its expiry, and a row
  // whose lease lapsed is anyone's to reclaim. Rows left running by an older runner have no lease: they count as lapsed.
  `
  ALTER TABLE runs ADD COLUMN lease_owner TEXT;
  ALTER TABLE runs ADD COLUMN lease_expires_at TEXT;
  ALTER TABLE sweeps ADD COLUMN lease_owner TEXT;
  ALTER TABLE sweeps ADD COLUMN lease_expires_at TEXT;
  CREATE INDEX runs_running_by_lease ON runs(lease_expires_at) WHERE status = 'running';
  `,
  // Trials that continue where they stopped (a resumed interruption, a promoted ASHA trial) stay one run: how far it
  // was last asked to train (NULL: all of train.epochs; a `completed` run with a budget is paused there) and how many
  // times it was started.
  `
  ALTER TABLE runs ADD COLUMN epoch_budget INTEGER;
  ALTER TABLE runs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1;
  `,
];
