import { beforeAll, describe, expect, it } from 'vitest';
import type { DiffResult } from '../src/report/diff.js';
import type { RunDetails } from '../src/report/run-details.js';
import type { Run } from '../src/store/run-store.js';
import { FASHION_MNIST_CLASSES } from '../src/data/classes.js';
import { welchTTest } from '../src/report/stats.js';
import { runCli } from './helpers/cli.js';
import { branchRuns, type BranchRuns } from './helpers/branch-runs.js';

let fixture: BranchRuns;
/** Every run, as `runner list --json` gives them. */
let runs: Run[];
const cli = (...args: string[]) => runCli([...args, '--db', fixture.db], { cwd: fixture.repo });
/** Run ids of `units` on `branch`. */
const runIds = (branch: string, units: number): string[] =>
  runs
    .filter((r) => r.git.branch === branch && r.params['model.layers.1.units'] === units)
    .map((r) => r.id);

beforeAll(async () => {
  fixture = await branchRuns();
  runs = JSON.parse((await cli('list', '--json')).stdout) as Run[];
});

describe('runner show', () => {
  it('prints the config, learning curves, a confusion heatmap with class names, per-class metrics and frequent confusions', async () => {
    const id = runIds('main', 16)[0]!;
    const result = await cli('show', id.slice(0, 8));
    expect(result.status).toBe(0);
    const out = result.stdout;
    expect(out).toContain(`Run ${id}`);
    expect(out).toMatch(/layers:\n\s+- \{ type: flatten \}\n\s+- \{ type: dense, units: 16,/);
    expect(out).toMatch(/val accuracy\s+[▁▂▃▄▅▆▇█]{2}\s+\d+\.\d\d% → \d+\.\d\d%/);
    const heatmap = out.slice(out.indexOf('Confusion matrix'), out.indexOf('Per-class metrics')).split('\n');
    // A header of abbreviated class names, then one row per class: its name and ten counts.
    expect(heatmap[1]).toContain('T-shi');
    const rows = heatmap.slice(2, 12).map((line) => line.trim().match(/^(.+?)((?:\s+\d+){10})$/));
    expect(rows.map((m) => m?.[1])).toEqual([...FASHION_MNIST_CLASSES]);
    const total = rows.flatMap((m) => m![2]!.trim().split(/\s+/).map(Number)).reduce((a, b) => a + b, 0);
    expect(total).toBe(500);
    expect(out).toMatch(/Per-class metrics[\s\S]*Ankle boot\s+│\s+\d+\.\d%/);
    expect(out).toMatch(/Most frequent confusions\n {2}\S.* taken for \S.*: \d+ \(\d+\.\d% of /);
  });

  it('--json carries the parsed confusion matrix and epochs', async () => {
    const details = JSON.parse((await cli('show', runIds('feature', 32)[0]!, '--json')).stdout) as RunDetails;
    expect(details.confusion).toHaveLength(10);
    expect(details.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(details.git.branch).toBe('feature');
  });

  it('explains a prefix that matches no run, and refuses an empty one (a prefix of several is in run-housekeeping)', async () => {
    const [none, empty] = await Promise.all([cli('show', 'zzzz'), cli('show', '')]);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('no run with id "zzzz"');
    expect(empty.status).toBe(2);
    expect(empty.stderr).toContain('an empty run id matches every run');
  });
});

describe('runner compare', () => {
  it('prints the changed config path, metric deltas and per-class recall deltas', async () => {
    const [a, b] = [runIds('main', 8)[0]!, runIds('feature', 32)[0]!];
    const result = await cli('compare', a, b);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/model\.layers\.1\.units\s+│\s+8\s+│\s+32/);
    expect(result.stdout).toMatch(/train\.seed\s+│\s+1\s+│\s+11/);
    expect(result.stdout).toMatch(/test accuracy\s+│\s+\d+\.\d\d% │\s+\d+\.\d\d% │\s+[+−]\d+\.\d\d pts/);
    expect(result.stdout).toContain('Per-class recall (worst change first)');
    expect(result.stdout).toMatch(/Sneaker\s+│\s+\d+\.\d% │\s+\d+\.\d% │\s+[+−±]\d+\.\d pts/);
  });

  it('shows that two repeats of one config differ in their seed only', async () => {
    const [a, b] = runIds('main', 16);
    const out = (await cli('compare', a!, b!)).stdout;
    expect(out).toContain('Config differences (1)');
    expect(out).toMatch(/train\.seed\s+│ 1 │ 2 │/);
  });
});

describe('runner diff', () => {
  const diffJson = async (...refs: string[]) => JSON.parse((await cli('diff', ...refs, '--json')).stdout) as DiffResult;

  it('pairs the config run on both branches, shows both sides and the delta, and lists one-sided configs', async () => {
    // No refs: main against the checkout's current branch, feature.
    const [result, diff] = await Promise.all([cli('diff'), diffJson()]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/A main\s+B feature/);
    expect(result.stdout).toMatch(/tiny\s+│ 1\.units=16 #[0-9a-f]{8}\s+│\s+\d+\.\d\d% ± \d+\.\d\d \(n=2, best \d+\.\d\d%\) │\s+\d+\.\d\d% ± \d+\.\d\d \(n=2, best \d+\.\d\d%\) │\s+[+−±]\d+\.\d\d pts │ p=\d\.\d{3}/);
    expect(result.stdout).toMatch(/Only on main\n {2}tiny 1\.units=8 /);
    expect(result.stdout).toMatch(/Only on feature\n {2}tiny 1\.units=32 /);

    expect(diff.pairs).toHaveLength(1);
    const [pair] = diff.pairs;
    expect(pair!.params).toEqual({ 'model.layers.1.units': 16 });
    expect(pair!.a.runIds.sort()).toEqual(runIds('main', 16).sort());
    expect(pair!.b.runIds.sort()).toEqual(runIds('feature', 16).sort());
    expect(pair!.delta).toBeCloseTo(pair!.b.accuracy.mean! - pair!.a.accuracy.mean!, 12);
    // The test is Welch's over exactly the paired runs' test accuracies (welchTTest itself is checked against reference values).
    const accuracies = (ids: string[]) => runs.filter((r) => ids.includes(r.id)).map((r) => r.testAccuracy!);
    const expected = welchTTest(accuracies(pair!.a.runIds), accuracies(pair!.b.runIds));
    expect(expected).not.toBeNull();
    expect(pair!.test).toEqual({ t: expect.closeTo(expected!.t, 9), df: expect.closeTo(expected!.df, 9), p: expect.closeTo(expected!.p, 9) });
  });

  it('accepts commit prefixes as refs', async () => {
    const [byCommit, byBranch] = await Promise.all([diffJson(fixture.mainCommit.slice(0, 7), fixture.featureCommit.slice(0, 10)), diffJson('main', 'feature')]);
    expect(byCommit.pairs.map((p) => p.delta)).toEqual(byBranch.pairs.map((p) => p.delta));
  });

  it('--fail-on-regression exits 1 only when a config lost more than that many accuracy points', async () => {
    const { delta } = (await diffJson('main', 'feature')).pairs[0]!;
    // Order the refs so that B is the worse side; the loss is then |delta| in fractions, 100 × that in points.
    const refs = delta! < 0 ? ['main', 'feature'] : ['feature', 'main'];
    const lost = Math.abs(delta!) * 100;
    expect(lost).toBeGreaterThan(0);
    const [strict, lenient] = await Promise.all([cli('diff', ...refs, '--fail-on-regression', String(lost / 2)), cli('diff', ...refs, '--fail-on-regression', String(lost * 2))]);
    expect(strict.status).toBe(1);
    expect(strict.stdout).toMatch(/--fail-on-regression: 1 config lost more than \d+\.\d\d pts/);
    expect(lenient.status).toBe(0);
  });

  it('rejects a ref with no runs, naming the branches that have some', async () => {
    const result = await cli('diff', 'main', 'no-such-branch');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('no runs at no-such-branch');
    expect(result.stderr).toContain('main (4), feature (4)');
  });
});

describe('runner report', () => {
  it('ranks grouped repeats with the swept parameter as a column, filtered by branch and status', async () => {
    const [branch, failed, top] = await Promise.all([cli('report', '--branch', 'feature', '--json'), cli('report', '--status', 'failed'), cli('report', '--top', '1', '--csv')]);
    const board = JSON.parse(branch.stdout) as { columns: string[]; entries: { runIds: string[]; params: object }[] };
    expect(board.columns).toEqual(['model.layers.1.units']);
    expect(board.entries.map((e) => e.runIds.length)).toEqual([2, 2]);
    expect(board.entries.map((e) => e.params).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual([{ 'model.layers.1.units': 16 }, { 'model.layers.1.units': 32 }]);
    expect(failed.stdout).toContain('No runs match');
    expect(top.stdout.trim().split('\n')).toHaveLength(2);
  });
});
