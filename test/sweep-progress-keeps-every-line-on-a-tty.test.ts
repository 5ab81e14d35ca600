import { Writable } from 'node:stream';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadExperiment } from '../src/config/load-experiment.js';
import { expandTrials, trialLabel } from '../src/sweep/expand.js';
import { createSweepProgress } from '../src/sweep/progress.js';
import type { TrialLabel } from '../src/sweep/run-sweep.js';
import { ROOT } from './helpers/cli.js';

/**
 * A terminal that applies the escape sequences cli-progress and readline write (cursor up/down/column,
 * erase line, erase below), so that the test sees what a user would see, not merely what was written once.
 */
class FakeTerminal extends Writable {
  readonly isTTY = true;
  readonly columns = 200;
  private readonly rows: string[] = [''];
  private row = 0;
  private col = 0;

  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    const text = chunk.toString();
    const pattern = /\x1B\[(\??)(\d*)([A-Za-z])|\x1B[78]|\n|\r|[^\x1B\n\r]+/g;
    for (const [token, privateMode, count, command] of text.matchAll(pattern)) {
      if (token === '\n') this.moveTo(this.row + 1, 0);
      else if (token === '\r') this.col = 0;
      else if (command) this.control(Boolean(privateMode), Number(count || 0), command);
      else if (!token.startsWith('\x1B')) this.print(token);
    }
    done();
  }

  /** The screen, top to bottom, without trailing blank lines. */
  screen(): string[] {
    const lines = this.rows.map((r) => r.trimEnd());
    while (lines.length && lines[lines.length - 1] === '') lines.pop();
    return lines;
  }

  private control(privateMode: boolean, n: number, command: string): void {
    if (privateMode || command === 'm') return;
    const line = this.rows[this.row]!;
    switch (command) {
      case 'A':
        return this.moveTo(Math.max(0, this.row - (n || 1)), this.col);
      case 'B':
        return this.moveTo(this.row + (n || 1), this.col);
      case 'C':
        this.col += n || 1;
        return;
      case 'D':
        this.col = Math.max(0, this.col - (n || 1));
        return;
      case 'G':
        this.col = Math.max(0, (n || 1) - 1);
        return;
      case 'K':
        this.rows[this.row] = n === 0 ? line.slice(0, this.col) : n === 1 ? ' '.repeat(this.col) + line.slice(this.col) : '';
        return;
      case 'J':
        this.rows[this.row] = line.slice(0, this.col);
        this.rows.length = this.row + 1;
        return;
    }
  }

  private print(text: string): void {
    const line = this.rows[this.row]!.padEnd(this.col);
    this.rows[this.row] = line.slice(0, this.col) + text + line.slice(this.col + text.length);
    this.col += text.length;
  }

  private moveTo(row: number, col: number): void {
    while (this.rows.length <= row) this.rows.push('');
    this.row = row;
    this.col = col;
  }
}

const trials: TrialLabel[] = expandTrials(loadExperiment(join(ROOT, 'experiments', 'quick.yaml'))).map((spec, i) => ({ runId: `run-${i}`, spec, label: trialLabel(spec) }));
const backend = 'wasm (requested)';
const data = [{ dir: '/data/fashion-mnist', format: 'idx' as const, via: '--data-dir' }];
const ttyProgress = () => {
  const terminal = new FakeTerminal();
  return { terminal, progress: createSweepProgress(terminal as unknown as NodeJS.WriteStream) };
};
const result = (epochs: number) => ({ outcome: 'completed' as const, epochs: [], bestEpoch: epochs, stoppedEarly: false, reachedEnd: true, paramCount: 1, seconds: 1.5 });

describe('sweep progress on a terminal', () => {
  it('shows the plan lines when every trial was skipped and no bar is ever drawn', () => {
    const { terminal, progress } = ttyProgress();
    progress.planned({ trials: 0, skipped: 2, runningElsewhere: 0, backend, concurrency: 2, data, searches: [] });
    expect(terminal.screen()).toEqual([
      'backend: wasm (requested)',
      'data: /data/fashion-mnist (--data-dir)',
      '0 trials to run, 2 already completed (skipped; --force re-runs them), 2 at a time',
    ]);
  });

  it('keeps the line of the last finished trial after its bar is removed', () => {
    const { terminal, progress } = ttyProgress();
    const [first, second] = trials as [TrialLabel, TrialLabel];
    progress.planned({ trials: 2, skipped: 0, runningElsewhere: 0, backend, concurrency: 2, data, searches: [] });
    progress.trialBatch(first, 1, 10, 188, 0.9);
    progress.trialBatch(second, 1, 20, 188, 0.8);
    progress.trialFinished(first, 'completed', result(3), undefined);
    progress.trialBatch(second, 2, 5, 188, 0.5);
    progress.trialFinished(second, 'completed', result(3), undefined);
    const screen = terminal.screen();
    expect(screen.slice(0, 3)).toEqual(['backend: wasm (requested)', 'data: /data/fashion-mnist (--data-dir)', '2 trials to run, 2 at a time']);
    expect(screen.slice(3).map((l) => l.split('  ')[0])).toEqual([`✓ ${first.label}`, `✓ ${second.label}`]);
    // No bar is left drawn once every trial has finished.
    expect(screen.some((l) => l.includes('ETA'))).toBe(false);
  });

  it('keeps the stopping notice and every interrupted line when a sweep is stopped', () => {
    const { terminal, progress } = ttyProgress();
    const [first, second] = trials as [TrialLabel, TrialLabel];
    progress.planned({ trials: 2, skipped: 0, runningElsewhere: 0, backend, concurrency: 2, data, searches: [] });
    progress.trialBatch(first, 1, 10, 188, 0.9);
    progress.trialBatch(second, 1, 20, 188, 0.8);
    progress.stopping('stopping: 2 running trials will be recorded as interrupted, 0 not started');
    progress.trialFinished(first, 'interrupted', undefined, 'stopped by the user');
    progress.trialFinished(second, 'interrupted', undefined, 'stopped by the user');
    expect(terminal.screen().slice(3)).toEqual([
      'stopping: 2 running trials will be recorded as interrupted, 0 not started',
      `■ interrupted ${first.label}    stopped by the user  run run-0`,
      `■ interrupted ${second.label}    stopped by the user  run run-1`,
    ]);
  });
});
