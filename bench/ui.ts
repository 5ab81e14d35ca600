/**
 * `runner ui` over a database of 1,000 runs: seeds one through RunStore (five of the repo's experiments swept over
 * learning rate and batch size, four seeds, two branches, ten epochs and a confusion matrix each, a few failed,
 * diverged, interrupted and still running), then times `runner ui` from process start to its first page fully
 * rendered in Chromium, and the leaderboard API. Prints figures; asserts nothing.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { loadExperiment } from '../src/config/load-experiment.js';
import { parseSweepFlag } from '../src/config/sweep-flag.js';
import { packageRoot } from '../src/package-root.js';
import { newRunId } from '../src/store/run-folders.js';
import { leaderboard } from '../src/report/leaderboard.js';
import type { RunStatus } from '../src/run-status.js';
import { RunStore } from '../src/store/run-store.js';
import { expandTrials, type TrialSpec } from '../src/sweep/expand.js';

const CLI = join(packageRoot, 'dist', 'src', 'cli.js');
const CHROMIUM = '/usr/bin/chromium';
const RUNS = 1000;
const EXPERIMENTS = ['seed-cnn', 'best-effort', 'cnn-dropout', 'conv2x2', 'dense-baseline'];
const BRANCHES = ['main', 'feature'];
const EPOCHS = 10;
const CLASSES = 10;

/** A deterministic stream of numbers in [0, 1), so that every bench run seeds the same database. */
function random(seed: number): () => number {
  let state = seed;
  return () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

function trials(): TrialSpec[] {
  const perExperiment = RUNS / EXPERIMENTS.length / BRANCHES.length;
  const sweeps = [parseSweepFlag('train.optimizer.learningRate=logrange(1e-4,1e-2,5)'), parseSweepFlag('train.batchSize=32,64,128,256,512')];
  return EXPERIMENTS.flatMap((name) => expandTrials(loadExperiment(join(packageRoot, 'experiments', `${name}.yaml`), [], sweeps), { repeat: 4 }).slice(0, perExperiment));
}

function seedDatabase(path: string): void {
  const store = new RunStore(path);
  const next = random(7);
  const sweepId = store.startSweep('runner sweep (bench/ui.ts)');
  const specs = trials();
  let index = 0;
  for (const branch of BRANCHES) {
    for (const spec of specs) {
      const id = newRunId(spec.hash);
      const status: RunStatus = index % 97 === 0 ? 'failed' : index % 89 === 0 ? 'diverged' : index % 83 === 0 ? 'interrupted' : index >= RUNS - 3 ? 'running' : 'completed';
      index++;
      store.startRun({ id, sweepId, experiment: spec.experiment, file: spec.file, config: spec.config, configHash: spec.hash, params: spec.params, seed: spec.config.train.seed, repeatIndex: spec.repeatIndex, git: { commit: branch === 'main' ? 'a'.repeat(40) : 'b'.repeat(40), branch, dirty: false }, backend: 'wasm' });
      const skill = 0.8 + next() * 0.12;
      const epochs = status === 'completed' ? EPOCHS : Math.floor(next() * EPOCHS);
      for (let epoch = 1; epoch <= epochs; epoch++) {
        const progress = 1 - Math.exp(-epoch / 3);
        store.recordEpoch(id, { epoch, loss: 1.5 - progress, accuracy: skill * progress + 0.02, valLoss: 1.4 - progress * 0.9, valAccuracy: skill * progress, seconds: 60 + next() * 10, validationSeconds: 4 });
      }
      if (status === 'running') continue;
      const confusion = Array.from({ length: CLASSES }, (_, t) => Array.from({ length: CLASSES }, (_, p) => (t === p ? Math.round(1000 * skill) : Math.round((1000 * (1 - skill)) / (CLASSES - 1)))));
      const classMetrics = confusion.map((row, k) => ({ precision: skill, recall: row[k]! / 1000, f1: skill, support: 1000 }));
      const mistakes = Array.from({ length: 48 }, (_, m) => ({ index: m * 37, label: m % CLASSES, predicted: (m + 3) % CLASSES, confidence: 0.5 + next() / 2 }));
      store.finishRun(id, { status, error: status === 'completed' ? undefined : `${status} (seeded by the bench)`, seconds: epochs * 65, paramCount: 421_642, bestEpoch: epochs, testAccuracy: status === 'completed' ? skill : undefined, testLoss: status === 'completed' ? 1.6 - skill : undefined, testSeconds: 3, confusion, classMetrics, mistakes });
    }
  }
  store.close();
}

/** Starts `runner ui`, and resolves with its URL once it prints it. */
function startUi(db: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [CLI, 'ui', '--port', '0', '--db', db], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      const url = /http:\/\/\S+\//.exec(out)?.[0];
      if (url) resolve({ url, stop: () => (child.kill('SIGINT'), exited) });
    });
    void exited.then(() => reject(new Error(`runner ui exited before printing its URL: ${out}`)));
  });
}

function rankings(db: string): number[] {
  const store = new RunStore(db, { readonly: true });
  const times = Array.from({ length: 5 }, () => {
    const t = performance.now();
    leaderboard(store.runs({ status: 'completed' }));
    return performance.now() - t;
  });
  store.close();
  return times;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchUi(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'runner-bench-ui-'));
  const db = join(dir, 'runs.sqlite');
  try {
    let started = performance.now();
    seedDatabase(db);
    console.log(`## runner ui\n\nSeeded ${RUNS} runs (${EPOCHS} epochs, confusion matrix and 48 mistakes each) through RunStore in ${((performance.now() - started) / 1000).toFixed(1)} s.\n`);
    console.log(`The leaderboard as the API computes it after each commit (read the completed runs, rank them), median of 5: ${median(rankings(db)).toFixed(0)} ms; the server then answers from memory until the next commit.\n`);
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
    const rows: string[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const spawnedAt = Date.now();
      const ui = await startUi(db);
      const listening = Date.now() - spawnedAt;
      await page.goto(ui.url);
      // The page stamps the moment it has drawn everything with its clock, which is this machine's.
      const rendered = Number(await (await page.waitForSelector('body[data-loaded]', { timeout: 30_000 }))!.getAttribute('data-loaded')) - spawnedAt;
      const shown = await page.evaluate(() => ({ entries: document.querySelectorAll('table.board tbody tr').length, runs: document.querySelectorAll('table.runs tbody tr').length }));
      const api: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t = performance.now();
        await (await fetch(new URL('/api/leaderboard', ui.url))).json();
        api.push(performance.now() - t);
      }
      rows.push(`| ${attempt} | ${listening.toFixed(0)} | ${rendered.toFixed(0)} | ${median(api).toFixed(0)} | ${shown.entries} entries, ${shown.runs} runs |`);
      await page.close();
      await ui.stop();
    }
    await browser.close();
    console.log('| try | process start → listening (ms) | → first page fully rendered in Chromium (ms) | GET /api/leaderboard again, median of 5 (ms) | shown |');
    console.log('| --- | --- | --- | --- | --- |');
    rows.forEach((row) => console.log(row));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
