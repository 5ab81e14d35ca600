import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { diffRuns } from '../src/report/diff.js';
import type { Leaderboard, LeaderboardEntry } from '../src/report/leaderboard.js';
import type { RunDetails } from '../src/report/run-details.js';
import type { Run } from '../src/store/run-store.js';
import { runCli, tempDir, writeTemp } from './helpers/cli.js';

/**
 * A real ASHA search, small enough to run once for the whole file: four configs, rungs at epochs 1, 2 and 4 (η = 2).
 * At most two of the four get past the first rung and at least one of those reaches the top, whatever order the
 * trials finish in, so the search leaves configs at both ends for the reports to tell apart.
 */
const EXPERIMENT = `name: tiny-asha
backend: wasm
data: { trainLimit: 600, testLimit: 300, validation: 0.2 }
model:
  input: [28, 28, 1]
  layers:
    - { type: flatten }
    - { type: dense, name: hidden, units: 16, activation: relu }
    - { type: dense, units: 10, activation: softmax }
train: { epochs: 4, batchSize: 50, seed: 1 }
search: { strategy: asha, minEpochs: 1, reduction: 2 }
sweep:
  train.optimizer.learningRate: [0.0003, 0.01]
  model.layers.hidden.units: [8, 32]
`;

let db: string;
let runs: Run[];
let top: Run;
let paused: Run;

async function cli(...args: string[]): Promise<string> {
  const result = await runCli([...args, '--db', db]);
  expect(result.status, result.stderr).toBe(0);
  return result.stdout;
}

beforeAll(async () => {
  const dir = tempDir('runner-asha-report-');
  db = join(dir, 'runs.sqlite');
  await cli('sweep', writeTemp('tiny-asha.yaml', EXPERIMENT, dir), '--backend', 'wasm');
  runs = JSON.parse(await cli('list', '--json')) as Run[];
  expect(runs).toHaveLength(4);
  top = runs.find((r) => r.epochsDone === 4)!;
  paused = runs.find((r) => r.epochsDone === 1)!;
  expect(top, 'a config at the top rung').toBeDefined();
  expect(paused, 'a config stopped at the first rung').toBeDefined();
});

describe('reports of an ASHA search say how far each config got', () => {
  it('report: the epochs column reads against the top rung, stopped configs marked, ranked by test accuracy alone', async () => {
    const text = await cli('report');
    const row = (run: Run) => text.split('\n').find((line) => line.includes(run.id))!;
    expect(row(top)).toMatch(/│ 4\/4 +│/);
    expect(row(paused)).toMatch(/│ 1\/4 · asha +│/);
    expect(text).toContain('n/N · asha: ASHA stopped this config at epoch n of N');

    const board = JSON.parse(await cli('report', '--json')) as Leaderboard;
    const entry = (run: Run) => board.entries.find((e) => e.runIds.includes(run.id))!;
    expect(entry(top)).toMatchObject({ epochs: 4, epochsPlanned: 4, epochBudget: null, rungs: [1, 2, 4], rung: 3 });
    expect(entry(paused)).toMatchObject({ epochs: 1, epochsPlanned: 4, epochBudget: 1, rungs: [1, 2, 4], rung: 1 });
    const accuracies = board.entries.map((e: LeaderboardEntry) => e.accuracy.mean!);
    expect(accuracies).toEqual([...accuracies].sort((a, b) => b - a));

    expect(await cli('report', '--md')).toMatch(/\| 1\/4 · asha +\|/);
  });

  it('show: where ASHA stopped a config and why, or that it reached the top, and how often it continued', async () => {
    expect(await cli('show', paused.id)).toContain(
      'stopped by ASHA at rung 1 of 3 (epoch 1 of 4): only the best 1/2 of rung 1 by validation accuracy went on to epoch 2; its test scores are from epoch 1',
    );
    // Trained to epoch 1, then continued from its checkpoint to 2, then to 4.
    expect(await cli('show', top.id)).toContain("trained to the top rung (epoch 4) of ASHA's rungs at epochs 1, 2, 4 · continued 2× from its checkpoint");
  });

  it('--json: a run carries its epoch budget, attempts and search', async () => {
    const shown = JSON.parse(await cli('show', paused.id, '--json')) as RunDetails;
    expect(shown).toMatchObject({ status: 'completed', epochsDone: 1, epochBudget: 1, attempts: 1 });
    expect(shown.config.search).toEqual({ strategy: 'asha', minEpochs: 1, reduction: 2, metric: 'valAccuracy' });
    expect(shown.config.train.epochs).toBe(4);
    expect(top).toMatchObject({ epochsDone: 4, epochBudget: null, attempts: 3 });
  });

  it('compare: the epochs row shows each run’s depth', async () => {
    const text = await cli('compare', top.id, paused.id, '--md');
    expect(text).toMatch(/\| epochs +\| +4\/4 \| +1\/4 · asha \|/);
  });

  it('diff: a config ASHA took to different depths on two refs is shown with both depths and is no regression', () => {
    const onB = runs.map((r) => ({ ...r, id: `b-${r.id}`, git: { ...r.git, branch: 'b' } }));
    const topOnB = onB.find((r) => r.id === `b-${top.id}`)!;
    Object.assign(topOnB, { epochsDone: 2, epochBudget: 2, testAccuracy: (top.testAccuracy ?? 0) - 0.2 });
    const result = diffRuns('a', runs.map((r) => ({ ...r, git: { ...r.git, branch: 'a' } })), 'b', onB, { threshold: 0.01 });
    const pair = result.pairs.find((p) => p.a.runIds.includes(top.id))!;
    expect(pair).toMatchObject({ rungs: [1, 2, 4], sameDepth: false, regression: false, a: { epochs: 4, paused: 0 }, b: { epochs: 2, paused: 1 } });
    expect(result.regressions).toBe(0);
  });

  it('the HTML report draws each config’s metric against the rungs, with a table of how far each got', async () => {
    const file = join(tempDir('runner-asha-html-'), 'report.html');
    expect(await cli('report', '--html', file)).toMatch(/1 ASHA rungs chart/);
    const html = readFileSync(file, 'utf8');
    const section = html.slice(html.indexOf('<h2>ASHA rungs</h2>'));
    expect(section).toContain('<h3>tiny-asha');
    const count = (pattern: RegExp) => (section.match(pattern) ?? []).length;
    expect(count(/class="rung-curve"/g), 'one line per config').toBe(4);
    expect(count(/class="rung-rule"/g), 'one rule per rung').toBe(3);
    const stoppedEarly = runs.filter((r) => r.epochBudget !== null).length;
    expect(count(/class="rung-stop"[^>]*fill="#fff"/g), 'an open mark where ASHA stopped a config').toBe(stoppedEarly);
    const table = section.slice(section.indexOf('<table class="board rungs">'));
    expect(table).toContain('<th>rung 1 (epoch 1)</th><th>rung 2 (epoch 2)</th><th>rung 3 (epoch 4)</th>');
    expect((table.match(/<tr class="paused">/g) ?? []).length).toBe(stoppedEarly);
    expect(table).toContain('<td>1/4 · asha</td>');
    expect(table).toMatch(/3 of 3<\/td><td>4\/4<\/td>/);
  });
});
