import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';
import { branchRuns } from './helpers/branch-runs.js';

/** Debian's Chromium, as the issue asks and CI installs; playwright-core brings no browser of its own. */
const CHROMIUM = '/usr/bin/chromium';
let html: string;
let browser: BrowserContext;
let profile: string;

beforeAll(async () => {
  // Checked before the sweeps, so a machine without the browser learns why at once rather than after training.
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: this test opens the report in a real browser; install Debian's chromium package (sudo apt-get install chromium)`);
  const { db, repo } = await branchRuns();
  html = join(tempDir('runner-report-'), 'report.html');
  const result = await runCli(['report', '--html', html, '--db', db], { cwd: repo });
  expect(result.status, result.stderr).toBe(0);
  expect(result.stdout).toMatch(/wrote .*report\.html: 4 leaderboard entries, 3 confusion matrices, 1 sweep plot, \d+ misclassified images/);
  // A fresh profile each time, so nothing a previous run left behind can change what the page shows.
  profile = mkdtempSync(join(tmpdir(), 'runner-chromium-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  await browser?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

describe('runner report --html', () => {
  it('is one self-contained file: no scripts, stylesheets or images loaded from anywhere else', () => {
    const text = readFileSync(html, 'utf8');
    expect(text).not.toMatch(/<script|<link|src="(?!data:)|url\(/);
  });

  it('renders the leaderboard, charts, heatmaps and misclassified images in Chromium without console errors', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('request', (request) => {
      if (!request.url().startsWith('file:') && !request.url().startsWith('data:')) problems.push(`network request to ${request.url()}`);
    });
    await page.goto(`file://${html}`, { waitUntil: 'load' });

    const rendered = await page.evaluate(() => {
      const size = (e: Element) => e.getBoundingClientRect();
      const charts = [...document.querySelectorAll('svg.chart')].map((svg) => ({
        width: size(svg).width,
        height: size(svg).height,
        heatmap: svg.classList.contains('heatmap'),
        marks: svg.querySelectorAll('circle, path, rect').length,
      }));
      const images = [...document.querySelectorAll<HTMLImageElement>('.gallery img')].map((img) => ({ complete: img.complete, natural: img.naturalWidth, shown: size(img).width, caption: img.closest('figure')!.textContent }));
      const boardRows = document.querySelectorAll('table.board tbody tr').length;
      return { charts, images, boardRows, headings: [...document.querySelectorAll('h2')].map((h) => h.textContent) };
    });

    expect(rendered.boardRows).toBe(4);
    expect(rendered.headings).toEqual([
      'Leaderboard (by test accuracy)',
      'Learning curves',
      'Confusion matrices of the best runs',
      'Sweep parameters against test accuracy',
      expect.stringMatching(/^Misclassified test images — tiny 1\.units=32 · feature \(run /),
    ]);
    // Two learning-curve charts, one sweep chart, three heatmaps of 100 cells each.
    expect(rendered.charts.filter((c) => !c.heatmap)).toHaveLength(3);
    expect(rendered.charts.filter((c) => c.heatmap).map((c) => c.marks)).toEqual([100, 100, 100]);
    for (const chart of rendered.charts) {
      expect(chart.width).toBeGreaterThan(200);
      expect(chart.height).toBeGreaterThan(200);
      expect(chart.marks).toBeGreaterThan(3);
    }
    expect(rendered.images.length).toBeGreaterThan(10);
    for (const image of rendered.images) {
      expect(image).toMatchObject({ complete: true, natural: 28, shown: 84 });
      expect(image.caption).toMatch(/^\S.*→ .+ \d+%#\d+$/);
    }

    await page.screenshot({ path: join(tempDir('runner-report-screenshot-'), 'report.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });
});
