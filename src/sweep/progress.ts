import chalk from 'chalk';
import cliProgress from 'cli-progress';
import type { FinalStatus } from '../run-status.js';
import type { TrialResult } from '../trial/run-trial.js';
import { duration, percent, plural } from '../ui/format.js';
import { STATUS_COLOUR } from '../ui/terminal-style.js';
import type { SweepReporter, TrialLabel } from './run-sweep.js';

const STATUS_MARK: Record<FinalStatus, string> = {
  completed: STATUS_COLOUR.completed('✓'),
  diverged: STATUS_COLOUR.diverged('↯ diverged'),
  failed: STATUS_COLOUR.failed('✗ failed'),
  interrupted: STATUS_COLOUR.interrupted('■ interrupted'),
};

/**
 * Terminal view of a sweep: on a TTY one live bar per running trial (epoch, batch, loss, ETA);
 * elsewhere (CI, pipes) one plain line per epoch. Either way one summary line per finished trial.
 */
export function createSweepProgress(stream: NodeJS.WriteStream = process.stderr): SweepReporter {
  const live = Boolean(stream.isTTY);
  const multibar = live
    ? new cliProgress.MultiBar(
        {
          stream,
          format: ' {bar} {percentage}% | {label} | epoch {epoch}/{epochs} batch {batch}/{batches} | loss {loss} | ETA {eta_formatted}',
          barsize: 20,
          hideCursor: true,
          clearOnComplete: true,
          etaBuffer: 50,
          fps: 10,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  const bars = new Map<string, cliProgress.SingleBar>();
  // MultiBar.log only queues a line for the next redraw; with no bar on screen there is none, so write at once.
  const log = (line: string) => (multibar && bars.size > 0 ? multibar.log(`${line}\n`) : stream.write(`${line}\n`));

  return {
    planned({ trials, skipped, runningElsewhere, backend, concurrency, data, searches }) {
      log(`backend: ${backend}`);
      for (const location of data) log(`data: ${location.dir} (${location.via})`);
      for (const search of searches) log(`search: ${search}`);
      const parts = [`${plural(trials, 'trial')} to run`];
      if (skipped) parts.push(`${skipped} already completed (skipped; --force re-runs them)`);
      if (runningElsewhere) parts.push(`${runningElsewhere} running elsewhere (another runner holds ${runningElsewhere === 1 ? 'it' : 'them'}; skipped)`);
      log(`${parts.join(', ')}, ${concurrency} at a time`);
    },
    trialStarted(trial) {
      if (!multibar) log(`▶ ${trial.label} (run ${trial.runId}${span(trial)})`);
    },
    trialBatch(trial, epoch, batch, batches, loss) {
      if (!multibar) return;
      const epochs = lastEpoch(trial);
      let bar = bars.get(trial.runId);
      if (!bar) {
        bar = multibar.create(epochs * batches, 0, { label: trial.label, epochs });
        bars.set(trial.runId, bar);
      }
      bar.update((epoch - 1) * batches + batch, { epoch, batch, batches, loss: loss.toFixed(4) });
    },
    trialEpoch(trial, r) {
      if (multibar) return;
      log(`  ${trial.label} epoch ${r.epoch}/${lastEpoch(trial)}: loss ${r.loss.toFixed(4)} acc ${percent(r.accuracy)} val_loss ${r.valLoss.toFixed(4)} val_acc ${percent(r.valAccuracy)} (${duration(r.seconds)})`);
    },
    trialFinished(trial, status, result, error) {
      const bar = bars.get(trial.runId);
      if (bar) {
        bar.stop();
        multibar?.remove(bar);
        bars.delete(trial.runId);
        if (bars.size === 0 && multibar) {
          // stop() clears the bars without writing queued lines: redraw once (no bars left) to write them first.
          multibar.update();
          multibar.stop();
        }
      }
      log(`${STATUS_MARK[status]} ${trial.label}  ${summary(result, status)}${error ? `  ${chalk.dim(error)}` : ''}  ${chalk.dim(`run ${trial.runId}`)}`);
    },
    stopping(reason) {
      log(chalk.yellow(reason));
    },
  };
}

/** Where a trial stops this time: an ASHA rung before train.epochs, or the end. */
function lastEpoch(trial: TrialLabel): number {
  return Math.min(trial.untilEpoch ?? Number.POSITIVE_INFINITY, trial.spec.config.train.epochs);
}

/** `, epochs 4–9`: the part of its training a trial does this time, when that is not all of it from the start. */
function span(trial: TrialLabel): string {
  const first = (trial.fromEpoch ?? 0) + 1;
  const last = lastEpoch(trial);
  if (first === 1 && last === trial.spec.config.train.epochs) return '';
  const continues = trial.fromEpoch ? `, continues from its checkpoint at epoch ${trial.fromEpoch}` : '';
  return `, epochs ${first}–${last}${continues}`;
}

function summary(result: TrialResult | undefined, status: FinalStatus): string {
  if (!result) return '';
  const parts = [];
  if (result.test) parts.push(`test acc ${chalk.bold(percent(result.test.accuracy))}`, `loss ${result.test.loss.toFixed(4)}`);
  const paused = status === 'completed' && !result.reachedEnd ? ' (paused: resumable)' : '';
  parts.push(`${plural(result.epochs.length, 'epoch')}${result.stoppedEarly ? ` (early stop, best ${result.bestEpoch})` : paused}`);
  parts.push(duration(result.seconds));
  return parts.join('  ');
}
