import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkout, startRedis, workerPool } from './helpers/redis.js';
import { query, startCli, tinyExperiment } from './helpers/sweeps.js';

/** Two configs under ASHA with η = 2 and rungs at epochs 1 and 2: both train one epoch, the better one a second. */
const ASHA = `search: { strategy: asha, minEpochs: 1, reduction: 2 }
sweep:
  train.optimizer.learningRate: [0.01, 0.001]
`;

const workers = workerPool();

describe('ASHA through a queue', () => {
  it('says a promoted trial continues from epoch 1, though its checkpoint is on the worker and not the coordinator', async () => {
    const redis = await startRedis();
    const repo = checkout({ 'asha.yaml': tinyExperiment('asha', ASHA, 'epochs: 2', 'trainLimit: 300, testLimit: 300, validation: 0.2') });
    const db = join(repo.dir, 'runs', 'runs.sqlite');
    workers.start(redis.url, repo.dir);
    const result = await startCli(['sweep', 'asha.yaml', '--db', db, '--queue', redis.url], repo.dir).done;
    expect(result.status, result.stderr).toBe(0);
    const promoted = query<{ attempts: number; epochs_done: number }>(db, 'SELECT attempts, epochs_done FROM runs WHERE attempts > 1');
    expect(promoted).toEqual([{ attempts: 2, epochs_done: 2 }]);
    expect(result.stderr).toMatch(/epochs 2–2, continues from its checkpoint at epoch 1/);
    expect(result.stderr).not.toMatch(/epochs 1–2/);
  });
});
