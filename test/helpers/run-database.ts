import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadExperiment } from '../../src/config/load-experiment.js';
import { RunStore } from '../../src/store/run-store.js';
import { expandTrials } from '../../src/sweep/expand.js';
import { tempDir, writeTemp } from './cli.js';
import { tinyExperiment } from './sweeps.js';

export const experimentFile = writeTemp('tiny.yaml', tinyExperiment('tiny'));
const [trial] = expandTrials(loadExperiment(experimentFile));

/** Ids that share their first eight characters, as the runs of one config hash do after a resume. */
export const runId = (i: number) => `aaaaaaaa-${String(i).padStart(4, '0')}`;

/**
 * A real database of `count` completed runs written through the store, each with a saved-model folder under
 * `runs/<run-id>/model/` beside it; no training, so it takes milliseconds.
 */
export function runDatabase(count: number, dir = tempDir('runner-db-')): string {
  const db = join(dir, 'runs.sqlite');
  const store = new RunStore(db);
  const sweepId = store.startSweep('runner sweep tiny.yaml');
  for (let i = 1; i <= count; i++) {
    const id = runId(i);
    const modelDir = join(dir, 'runs', id, 'model');
    mkdirSync(modelDir, { recursive: true });
    writeFileSync(join(modelDir, 'model.json'), '{}');
    writeFileSync(join(modelDir, 'weights.bin'), Buffer.alloc(64));
    store.startRun({ id, sweepId, experiment: 'tiny', file: 'tiny.yaml', config: trial!.config, configHash: id.slice(0, 8), params: {}, seed: i, repeatIndex: i, git: { branch: 'main' }, backend: 'cpu' });
    store.finishRun(id, { status: 'completed', testAccuracy: 0.5 + i / 100, testLoss: 1, seconds: 1, modelDir });
  }
  store.close();
  return db;
}

/** The run config every run of `runDatabase` has, for databases written another way. */
export const trialConfig = trial!.config;
