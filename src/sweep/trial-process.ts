import { fork } from 'node:child_process';
import { join } from 'node:path';
import type { BackendInfo } from '../backend/select.js';
import { packageRoot } from '../package-root.js';
import type { RunTrialMessage, WorkerMessage } from '../trial/protocol.js';
import type { TrialResult } from '../trial/run-trial.js';
import type { EpochRecord } from '../trial/records.js';

export interface TrialProcessEvents {
  /** The trial is about to train; `restored`: the epochs its checkpoint brought back, none for a fresh start. */
  onReady?(backend: BackendInfo, loadSeconds: number, restored: EpochRecord[]): void;
  onBatch?(epoch: number, batch: number, batches: number, loss: number): void;
  onEpoch?(record: EpochRecord): void;
}

export type TrialProcessOutcome =
  /** `host`: the machine that trained it, when not this one (a queue's worker). */
  | { kind: 'result'; result: TrialResult; backend: BackendInfo; host?: string }
  | { kind: 'error'; message: string; backend?: BackendInfo }
  /** Ended by a signal before it could report: the parent stopping it, kill -9, the OOM killer, or a crash. */
  | { kind: 'killed'; signal: NodeJS.Signals; message: string; backend?: BackendInfo }
  /** Killed by the parent after reporting no progress for `idleMs`: hung (a deadlock, SIGSTOP). */
  | { kind: 'stalled'; idleMs: number; backend?: BackendInfo };

export interface TrialProcessControl {
  /** Aborted when the sweep stops: the worker finishes its batch, reports `interrupted` and exits. */
  stop: AbortSignal;
  /** How long the worker may go without a message (ready, batch, epoch) before it is killed as hung. */
  stallMs: number;
}

/** The default stall limit: a worker hung in a deadlock or stopped (SIGSTOP) would otherwise hold its slot forever. */
export const STALL_MS = 10 * 60_000;

/** How long a stopped worker gets to finish its batch and report before it is killed. */
const STOP_GRACE_MS = 10_000;

/** The compiled worker; tests run the built CLI too, so one path serves both. */
const WORKER = join(packageRoot, 'dist', 'src', 'trial', 'worker.js');

/** Runs one trial in a child process and resolves with what it reported (or how it died). */
export function runTrialProcess(message: RunTrialMessage, events: TrialProcessEvents, { stop, stallMs }: TrialProcessControl): Promise<TrialProcessOutcome> {
  return new Promise((resolve) => {
    const child = fork(WORKER, [], {
      // GPU memory is returned when the process ends; growth mode keeps parallel trials from each claiming all of it.
      env: { ...process.env, TF_FORCE_GPU_ALLOW_GROWTH: 'true', TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? '2' },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      // Structured clone keeps NaN and Infinity (a diverged loss), which JSON would turn into null.
      serialization: 'advanced',
      // Own process group: the terminal's Ctrl-C reaches only the parent, which then stops trials in order.
      detached: true,
    });
    let outcome: TrialProcessOutcome | undefined;
    let backend: BackendInfo | undefined;
    let stderr = '';
    let stalled = false;
    const kill = (graceMs: number) => {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), graceMs).unref();
    };
    let watchdog: NodeJS.Timeout | undefined;
    const progressed = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        stalled = true;
        // A worker that made no progress for the whole limit will hardly finish its batch in a longer grace.
        kill(Math.min(STOP_GRACE_MS, stallMs));
      }, stallMs);
    };
    progressed();
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child.on('message', (m: WorkerMessage) => {
      progressed();
      switch (m.type) {
        case 'ready':
          backend = m.backend;
          events.onReady?.(m.backend, m.loadSeconds, m.restored);
          break;
        case 'batch':
          events.onBatch?.(m.epoch, m.batch, m.batches, m.loss);
          break;
        case 'epoch':
          events.onEpoch?.(m.record);
          break;
        case 'result':
          outcome = { kind: 'result', result: m.result, backend: m.backend };
          break;
        case 'error':
          outcome = { kind: 'error', message: m.message, backend };
          break;
      }
    });
    const onStop = () => kill(STOP_GRACE_MS);
    stop.addEventListener('abort', onStop, { once: true });
    child.on('exit', (code, signal) => {
      clearTimeout(watchdog);
      stop.removeEventListener('abort', onStop);
      if (stalled) return resolve({ kind: 'stalled', idleMs: stallMs, backend });
      if (outcome) return resolve(outcome);
      const detail = stderr.trim().split('\n').slice(-3).join(' | ');
      const message = `trial process ${signal ? `killed by ${signal}` : `exited with code ${code}`}${detail ? `: ${detail}` : ''}`;
      resolve(signal ? { kind: 'killed', signal, message, backend } : { kind: 'error', message, backend });
    });
    // A process that cannot start (no memory, too many processes) reports only this, never `exit`.
    child.on('error', (error) => {
      clearTimeout(watchdog);
      stop.removeEventListener('abort', onStop);
      resolve({ kind: 'error', message: `the trial process could not run: ${error.message}`, backend });
    });
    child.send(message);
  });
}
