import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir, writeTemp } from './helpers/cli.js';
import { halfWritten, isAlive, query, startCli, tinyExperiment, waitFor, workerPids } from './helpers/sweeps.js';

/** One row per run, as the tests compare them: what it trained to and scored, not when or where. */
interface RunShape {
  config_hash: string;
  status: string;
  epochs_done: number;
  epoch_budget: number | null;
  test_accuracy: number | null;
  test_loss: number | null;
}

const runShapes = (db: string) =>
  query<RunShape>(db, 'SELECT config_hash, status, epochs_done, epoch_budget, test_accuracy, test_loss FROM runs ORDER BY config_hash');
const epochScores = (db: string) =>
  query<{ config_hash: string; epoch: number; loss: number; val_accuracy: number }>(db, 'SELECT config_hash, epoch, loss, val_accuracy FROM epochs JOIN runs ON runs.id = run_id ORDER BY config_hash, epoch');

/** Kills the runner with kill -9 once `ready` holds, then waits for its orphaned workers to exit and its lease to lapse. */
async function killWhen(args: string[], ready: () => boolean, what: string): Promise<void> {
  const sweep = startCli(args, undefined, { RUNNER_LEASE_SECONDS: '1' });
  await waitFor(ready, what);
  const workers = workerPids(sweep.child.pid!);
  sweep.child.kill('SIGKILL');
  await sweep.done;
  await waitFor(() => workers.every((pid) => !isAlive(pid)), 'orphaned workers to exit', 20_000);
  await new Promise((resolve) => setTimeout(resolve, 1100));
}

describe('a killed trial continues from its last checkpoint', () => {
  it('kill -9 mid-trial, then the same sweep again: one run, every epoch once, the same scores as a run straight through', async () => {
    const dir = tempDir();
    const file = writeTemp('four-epochs.yaml', tinyExperiment('four-epochs', '', 'epochs: 4', 'trainLimit: 1500, testLimit: 300'), dir);
    // Apart, so that each database has its own runs folder.
    const straight = join(tempDir(), 'runs.sqlite');
    const killed = join(tempDir(), 'runs.sqlite');
    expect((await runCli(['sweep', file, '--db', straight])).status).toBe(0);

    await killWhen(['sweep', file, '--db', killed], () => query(killed, 'SELECT 1 FROM epochs WHERE epoch = 2').length > 0, 'epoch 2');
    expect(runShapes(killed).map((r) => r.status)).toEqual(['running']);
    const resumed = await runCli(['sweep', file, '--db', killed], { env: { RUNNER_LEASE_SECONDS: '1' } });
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/epochs [34]–4, continues from its checkpoint at epoch [23]/);

    expect(query(killed, 'SELECT attempts FROM runs')).toEqual([{ attempts: 2 }]);
    expect(runShapes(killed)).toEqual(runShapes(straight));
    expect(epochScores(killed)).toEqual(epochScores(straight));
    expect(halfWritten(killed)).toEqual([]);
  });
});

/** A 2 × 2 grid under ASHA with η = 2: rungs at epochs 1, 2 and 4; seven trainings in all. */
const ASHA = `search: { strategy: asha, minEpochs: 1, reduction: 2 }
sweep:
  train.optimizer.learningRate: [0.01, 0.001]
  train.batchSize: [50, 100]
`;

describe('ASHA after kill -9', () => {
  it('the re-run picks up where the search was: every config recorded once, the same depths and scores as a search never killed', async () => {
    const dir = tempDir();
    const file = writeTemp('asha.yaml', tinyExperiment('asha', ASHA, 'epochs: 4', 'trainLimit: 600, testLimit: 300, validation: 0.2'), dir);
    // Apart, so that each database has its own runs folder.
    const straight = join(tempDir(), 'runs.sqlite');
    const killed = join(tempDir(), 'runs.sqlite');
    // One at a time, ASHA's decisions follow from the results alone, so two searches can be compared run for run.
    const args = (db: string) => ['sweep', file, '--db', db, '--concurrency', '1'];
    const reference = await runCli(args(straight));
    expect(reference.status, reference.stderr).toBe(0);
    expect(reference.stderr).toMatch(/search: ASHA over 4 configs of asha: .*trained to epoch 4/);

    // A promoted config is training: the kill lands mid-search, between rungs.
    await killWhen(args(killed), () => query(killed, `SELECT 1 FROM runs WHERE status = 'running' AND attempts > 1`).length > 0, 'a promoted config training');
    const resumed = await runCli(args(killed), { env: { RUNNER_LEASE_SECONDS: '1' } });
    expect(resumed.status, resumed.stderr).toBe(0);

    expect(runShapes(killed)).toEqual(runShapes(straight));
    expect(epochScores(killed)).toEqual(epochScores(straight));
    expect(query(killed, 'SELECT COUNT(DISTINCT config_hash) AS configs, COUNT(*) AS runs FROM runs')).toEqual([{ configs: 4, runs: 4 }]);
    expect(halfWritten(killed)).toEqual([]);

    // Nothing is left to do: a third run trains nothing.
    const again = await runCli(args(killed));
    expect(again.stderr).toMatch(/sweep: 0 completed/);
  });
});
