import type { FinalStatus } from '../run-status.js';
import type { RunOutcome } from '../store/run-store.js';
import type { TrialResult } from '../trial/run-trial.js';
import type { TrialProcessOutcome } from './trial-process.js';

/** Signals a process raises against itself when it crashes (native code): running it again would crash again. */
const CRASH_SIGNALS = new Set<NodeJS.Signals>(['SIGSEGV', 'SIGBUS', 'SIGFPE', 'SIGILL', 'SIGABRT']);

/** `90s`, `10m`: a stall limit as people write it (`ms` would round 90 s to `2m`). */
export function spokenDuration(millis: number): string {
  return millis % 60_000 === 0 ? `${millis / 60_000}m` : `${millis / 1000}s`;
}

/**
 * What a finished trial process means for its run row: status, error text and, when trained, the results.
 * `stopReason` says why the sweep was stopping when it ended (`stopped by the user`, `stopped by SIGTERM`, a failed
 * database); undefined while the sweep runs on.
 */
export function runOutcome(outcome: TrialProcessOutcome, modelDir: string, stopReason: string | undefined): { status: FinalStatus; record: RunOutcome; result?: TrialResult; error?: string } {
  const adapter = outcome.backend?.adapter;
  const device = adapter && { vendor: adapter.vendor, architecture: adapter.architecture, device: adapter.device, description: adapter.description };
  const info = outcome.backend ? { gpu: outcome.backend.gpu, tfjsVersion: outcome.backend.tfjsVersion, backend: outcome.backend.name, device } : {};
  if (outcome.kind === 'stalled') {
    // A hung worker (deadlock, SIGSTOP) did nothing wrong that a re-run would repeat, like one killed from outside.
    const error = `no progress for ${spokenDuration(outcome.idleMs)}: the worker was killed`;
    return { status: 'interrupted', record: { status: 'interrupted', error, ...info }, error };
  }
  if (outcome.kind === 'killed' && !CRASH_SIGNALS.has(outcome.signal)) {
    // Killed from outside (kill -9, the OOM killer, or the parent stopping it): the trial did nothing wrong
    // and did not finish, so it is run again next time, like the runs of a runner that died.
    const error = stopReason ?? outcome.message;
    return { status: 'interrupted', record: { status: 'interrupted', error, ...info }, error };
  }
  if (outcome.kind !== 'result') {
    // A worker that dies while the sweep is being stopped was stopped, not broken.
    const status: FinalStatus = stopReason ? 'interrupted' : 'failed';
    return { status, record: { status, error: outcome.message, ...info }, error: outcome.message };
  }
  const { result } = outcome;
  const status: FinalStatus = result.outcome;
  const at = result.divergedAt;
  const batches = at && (at.firstBatch === at.batch ? `batch ${at.batch}` : `batches ${at.firstBatch}–${at.batch}`);
  const error = at && (at.metric ? `${at.metric} became ${at.loss} at epoch ${at.epoch}` : `loss became ${at.loss} at epoch ${at.epoch}, ${batches}`);
  const record: RunOutcome = {
    status,
    // A worker stops early only on SIGTERM: the sweep's (then the reason is known), or someone else's.
    error: status === 'interrupted' ? (stopReason ?? 'stopped by a SIGTERM sent to the trial process') : error,
    seconds: result.seconds,
    paramCount: result.paramCount,
    bestEpoch: result.bestEpoch,
    testLoss: result.test?.loss,
    testAccuracy: result.test?.accuracy,
    testSeconds: result.test?.seconds,
    confusion: result.test?.confusion,
    classMetrics: result.test?.classes,
    mistakes: result.test?.mistakes,
    modelDir: result.test ? modelDir : undefined,
    host: outcome.host,
    ...info,
  };
  return { status, record, result, error };
}
