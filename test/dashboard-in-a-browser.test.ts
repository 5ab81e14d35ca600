import Database from 'better-sqlite3';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LeaderboardResponse, MetaResponse, RunsResponse } from '../src/dashboard/api-types.js';
import { MIGRATIONS } from '../src/store/migrations.js';
import { branchRunsCopy, type BranchRuns } from './helpers/branch-runs.js';
import { runCli, tempDir } from './helpers/cli.js';
import { startDashboard, type RunningDashboard } from './helpers/dashboard.js';
import { startCli, tinyExperiment } from './helpers/sweeps.js';

/** Debian's Chromium, as test/html-report.test.ts drives it; playwright-core brings no browser of its own. */
const CHROMIUM = '/usr/bin/chromium';
/** Set to a path (docs/dashboard.png for the README) to keep a screenshot of the dashboard taken during the live sweep. */
const README_SCREENSHOT = process.env.RUNNER_DASHBOARD_SCREENSHOT;

let fixture: BranchRuns;
let dashboard: RunningDashboard;
let browser: Browser;
let shots: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: this test opens the dashboard in a real browser; install Debian's chromium package (sudo apt-get install chromium)`);
  // A copy: the live-sweep test adds runs to it, which the other files reading the branch runs must not see.
  fixture = await branchRunsCopy();
  dashboard = await startDashboard(['--db', fixture.db], fixture.repo);
  shots = mkdtempSync(join(tmpdir(), 'runner-dashboard-shots-'));
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
});

afterAll(async () => {
  await browser?.close();
  await dashboard?.stop();
  if (shots) rmSync(shots, { recursive: true, force: true });
});

/** A page that records every console error or warning, failed request and request to another origin. */
async function openPage(path: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (r) => problems.push(`failed request ${r.url()}`));
  page.on('request', (r) => {
    if (!r.url().startsWith(dashboard.url)) problems.push(`request to another origin: ${r.url()}`);
  });
  await page.goto(new URL(path, dashboard.url).href);
  await loaded(page);
  return { page, problems };
}

/** The page sets data-loaded after each view has fetched and drawn what it shows. */
async function loaded(page: Page, after = 0): Promise<void> {
  await page.waitForFunction((t) => Number(document.body.dataset.loaded ?? 0) > t, after, { timeout: 20_000 });
}

async function api<T>(path: string): Promise<{ status: number; body: T; type: string | null }> {
  const response = await fetch(new URL(path, dashboard.url));
  return { status: response.status, body: (await response.json()) as T, type: response.headers.get('content-type') };
}

describe('runner ui', () => {
  it('ranks runs exactly as `runner report --json` does', async () => {
    const { body } = await api<LeaderboardResponse>('/api/leaderboard');
    const report = await runCli(['report', '--json', '--db', fixture.db], { cwd: fixture.repo });
    expect(report.status, report.stderr).toBe(0);
    expect(body).toEqual(JSON.parse(report.stdout));
    expect(body.entries).toHaveLength(4);
  });

  it('renders the leaderboard, parallel coordinates and runs, a run, a comparison and a branch diff without console errors', async () => {
    const { page, problems } = await openPage('/#/');
    expect(await page.locator('table.board tbody tr').count()).toBe(4);
    expect(await page.locator('table.runs tbody tr').count()).toBe(8);
    expect(await page.locator('#parallel canvas').count()).toBeGreaterThan(0);
    expect(await page.locator('#recent-curves canvas').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(shots, 'overview.png'), fullPage: true });

    // Sorting by a column: ascending accuracy puts the last-ranked entry first.
    await page.locator('table.board th[data-column="accuracy"]').click();
    expect(await page.locator('table.board tbody tr').first().getAttribute('data-rank')).toBe('4');

    // Compare two runs picked in the runs table, as a user does.
    const boxes = page.locator('table.runs tbody input[type=checkbox]');
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    let before = Number(await page.evaluate(() => document.body.dataset.loaded));
    await page.locator('#compare-selected').click();
    await loaded(page, before);
    expect(await page.locator('h1').textContent()).toBe('Comparing 2 runs');
    expect(await page.locator('#compare-accuracy canvas').count()).toBeGreaterThan(0);
    expect(await page.locator('table.config-diff tbody tr').count()).toBeGreaterThan(0);
    expect(await page.locator('#confusion-delta-0 canvas').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(shots, 'compare.png'), fullPage: true });

    // A run's page, from the comparison's link.
    before = Number(await page.evaluate(() => document.body.dataset.loaded));
    await page.locator('#compare-runs a.run-id').first().click();
    await loaded(page, before);
    expect(await page.locator('#run-header .status').textContent()).toBe('completed');
    for (const chart of ['#loss-curves', '#accuracy-curves', '#confusion']) expect(await page.locator(`${chart} canvas`).count(), chart).toBeGreaterThan(0);
    expect(await page.locator('table.per-class tbody tr').count()).toBe(10);
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('#gallery img')].every((img) => img.complete && img.naturalWidth === 28));
    expect(await page.locator('#gallery img').count()).toBeGreaterThan(5);
    expect(await page.locator('#config').textContent()).toContain('"layers"');
    await page.screenshot({ path: join(shots, 'run.png'), fullPage: true });

    // The branch diff, between the two branches the pickers offer.
    before = Number(await page.evaluate(() => document.body.dataset.loaded));
    await page.locator('nav a[data-view=diff]').click();
    await loaded(page, before);
    expect(await page.locator('#diff-a option').allTextContents()).toEqual(['main', 'feature']);
    expect(await page.locator('#diff-a').inputValue()).toBe('main');
    expect(await page.locator('#diff-b').inputValue()).toBe('feature');
    expect(await page.locator('table.diff tbody tr').count()).toBe(1);
    expect(await page.locator('#diff-result h3').allTextContents()).toEqual(['Only on main', 'Only on feature']);
    await page.screenshot({ path: join(shots, 'diff.png'), fullPage: true });

    expect(problems).toEqual([]);
    await page.close();
  });

  it('filters the leaderboard to the entries inside a brushed parallel-coordinates axis', async () => {
    const { page, problems } = await openPage('/#/');
    const units = await page.evaluate(() => [...document.querySelectorAll('table.board tbody tr')].map((row) => row.children[2]!.textContent));
    expect(units.sort()).toEqual(['16', '16', '32', '8']);
    // Through ECharts' own action, as a drag along the axis dispatches it.
    await page.evaluate(() => {
      const chart = (window as unknown as { echarts: typeof import('echarts') }).echarts.getInstanceByDom(document.getElementById('parallel')!)!;
      chart.dispatchAction({ type: 'axisAreaSelect', parallelAxisId: 'param:model.layers.1.units', intervals: [[12, 20]] });
    });
    await page.waitForFunction(() => document.querySelectorAll('table.board tbody tr').length === 2);
    expect(await page.evaluate(() => [...document.querySelectorAll('table.board tbody tr')].map((row) => row.children[2]!.textContent))).toEqual(['16', '16']);
    expect(await page.locator('#board-note .brushed').textContent()).toBe('Brushed: showing 2 of 4. ');
    await page.screenshot({ path: join(shots, 'brushed.png'), fullPage: true });
    await page.locator('#clear-brush').click();
    await page.waitForFunction(() => document.querySelectorAll('table.board tbody tr').length === 4);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('shows a new run and its epochs as a sweep writes them, without reloading the page', async () => {
    const { page, problems } = await openPage('/#/');
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    const experiment = join(fixture.repo, 'live.yaml');
    writeFileSync(experiment, tinyExperiment('live', 'sweep: { train.optimizer.learningRate: [0.01, 0.003] }', 'epochs: 4', 'trainLimit: 3000, testLimit: 300'));
    const sweep = startCli(['sweep', experiment, '--db', fixture.db], fixture.repo);

    // Every state of the live runs' rows the page showed, sampled faster than the page redraws.
    const seen: { id: string; status: string; epochs: string }[] = [];
    let screenshotTaken = !README_SCREENSHOT;
    const sweepDone = sweep.done;
    let finished = false;
    void sweepDone.then(() => (finished = true));
    while (!finished) {
      const rows = await page.evaluate(() =>
        [...document.querySelectorAll<HTMLElement>('table.runs tbody tr')]
          .filter((row) => row.children[2]!.textContent === 'live')
          .map((row) => ({ id: row.dataset.run!, status: row.dataset.status!, epochs: row.querySelector('.epochs-done')!.textContent! })),
      );
      seen.push(...rows);
      if (!screenshotTaken && rows.some((r) => r.status === 'running' && r.epochs.startsWith('3/'))) {
        mkdirSync(dirname(resolve(README_SCREENSHOT!)), { recursive: true });
        await page.screenshot({ path: resolve(README_SCREENSHOT!), fullPage: true });
        screenshotTaken = true;
      }
      await page.waitForTimeout(50);
    }
    const end = await sweepDone;
    expect(end.status, end.stderr).toBe(0);
    // The page catches up with the last commit too.
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLElement>('table.runs tbody tr[data-status=completed]')].filter((row) => row.children[2]!.textContent === 'live').length === 2, undefined, { timeout: 10_000 });

    const ids = [...new Set(seen.map((s) => s.id))];
    expect(ids).toHaveLength(2);
    const running = seen.filter((s) => s.status === 'running');
    expect(running.length, 'a live run was shown as running').toBeGreaterThan(0);
    // At least one run was seen at two different epoch counts while it was running: the rows grew in place.
    const epochsSeen = ids.map((id) => new Set(running.filter((s) => s.id === id).map((s) => s.epochs)).size);
    expect(Math.max(...epochsSeen), JSON.stringify(seen.filter((s) => s.status === 'running'))).toBeGreaterThan(1);
    expect(await page.locator('table.runs tbody tr[data-status=running] .status-running').count()).toBe(0);
    // The newest runs' curves now hold every epoch of the live runs.
    const curvePoints = await page.evaluate(() => {
      const chart = (window as unknown as { echarts: typeof import('echarts') }).echarts.getInstanceByDom(document.getElementById('recent-curves')!)!;
      return (chart.getOption().series as { name: string; data: unknown[] }[]).map((s) => ({ name: s.name, points: s.data.length }));
    });
    for (const id of ids) expect(curvePoints.find((c) => c.name.startsWith(id))?.points).toBe(4);
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    await page.screenshot({ path: join(shots, 'after-live-sweep.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('answers a bad run id with 404 and an odd filter with 400, as JSON without a stack trace', async () => {
    const missing = await api<{ error: string }>('/api/runs/ffffffff-0000');
    expect(missing).toEqual({ status: 404, type: 'application/json; charset=utf-8', body: { error: 'no run with id "ffffffff-0000", or several start with it' } });
    expect((await api<{ error: string }>('/api/runs/..%2F..%2Fetc%2Fpasswd')).status).toBe(404);
    expect((await api<{ error: string }>('/api/runs/%E0%A4%A')).status).toBe(400);
    for (const [path, error] of [
      ['/api/leaderboard?status=sideways', 'status "sideways" is not one of running, completed, failed, diverged, interrupted'],
      ['/api/runs?tag=reviewed', 'tag "reviewed" is not key=value'],
      ['/api/runs?experiment=a&experiment=b', 'query parameter experiment given 2 times; give it once'],
      ['/api/leaderboard?order=desc', 'unknown query parameter "order"; this endpoint takes experiment, branch, status, tag, metric'],
      ['/api/leaderboard?metric=speed', 'metric "speed" is not one of accuracy, loss, time'],
      ['/api/leaderboard?metric=__proto__', 'metric "__proto__" is not one of accuracy, loss, time'],
      ['/api/leaderboard?metric=toString', 'metric "toString" is not one of accuracy, loss, time'],
      ['/api/events?bogus=1', 'unknown query parameter "bogus"; this endpoint takes none'],
      ['/api/compare?ids=abc', 'ids takes 2 to 8 run ids separated by commas, got 1'],
    ]) {
      const answer = await api<{ error: string }>(path!);
      expect({ path, status: answer.status, body: answer.body }).toEqual({ path, status: 400, body: { error } });
    }
    const runs = (await api<RunsResponse>('/api/runs')).body.runs;
    const image = await api<{ error: string }>(`/api/runs/${runs[0]!.id}/images/99999.png`);
    expect(image.status).toBe(404);
    expect((await api<{ error: string }>('/api/diff?a=main&b=nowhere')).body).toEqual({ error: 'no runs at nowhere: it is neither a branch recorded on a run nor a commit of one' });
    expect((await api<{ error: string }>('/package.json')).status).toBe(404);

    const page = await fetch(dashboard.url);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'self';/);
    // HEAD on the event stream answers its headers and ends, rather than holding the connection open.
    const streamHead = await fetch(new URL('/api/events', dashboard.url), { method: 'HEAD', signal: AbortSignal.timeout(5000) });
    expect(streamHead.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(streamHead.headers.get('content-security-policy')).toMatch(/^default-src 'self';/);
    const post = await fetch(new URL('/api/runs', dashboard.url), { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    // DNS rebinding: a request naming another host is refused on loopback.
    const rebound = await new Promise<number>((done) => request(new URL('/api/meta', dashboard.url), { headers: { Host: 'attacker.example:80' } }, (r) => done(r.statusCode!)).end());
    expect(rebound).toBe(421);
  });

  it('warns when it listens beyond loopback, and exits 130 on SIGTERM or Ctrl-C', async () => {
    const open = await startDashboard(['--host', '0.0.0.0', '--db', fixture.db]);
    const ended = await open.stop('SIGTERM');
    expect(ended.status).toBe(130);
    expect(ended.stderr).toMatch(/^warning: listening on 0\.0\.0\.0, not loopback: anyone who can reach this machine can read every run in /);

    // An open event stream must not keep the server from closing.
    const local = await startDashboard(['--db', fixture.db]);
    const events = await fetch(new URL('/api/events', local.url));
    expect(events.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const stopped = await local.stop('SIGINT');
    expect(stopped).toMatchObject({ status: 130, stderr: '' });
  });

  it('says so when it can only show a snapshot of an older database, without live updates', async () => {
    const old = join(tempDir(), 'old.sqlite');
    const db = new Database(old);
    db.exec(MIGRATIONS[0]!);
    db.pragma('user_version = 1');
    db.close();
    const snapshot = await startDashboard(['--db', old]);
    const meta = (await (await fetch(new URL('/api/meta', snapshot.url))).json()) as MetaResponse;
    expect(meta).toMatchObject({ live: false, runs: 0 });
    const ended = await snapshot.stop();
    expect(ended.status).toBe(130);
    expect(ended.stderr).toContain(`warning: ${old} is shown as it was at start, without live updates`);
  });

  it('refuses a database that does not exist, naming it', async () => {
    const missing = join(tempDir(), 'none.sqlite');
    const result = await runCli(['ui', '--port', '0', '--db', missing]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`no run database at ${missing}`);
  });
});
