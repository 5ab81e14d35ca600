import { describe, expect, it } from 'vitest';
import type { TrialConfig } from '../src/config/resolved.js';
import { checkedProgress, checkedResult } from '../src/sweep/queue/checked-result.js';
import { printable } from '../src/sweep/queue/printable.js';
import { checkedQueuedTrial } from '../src/sweep/queue/queued-trial.js';

/** What checkedResult reads of a config: how many epochs, and how many test images. */
const config = { train: { epochs: 3 }, data: { testLimit: 300 } } as TrialConfig;
const epoch = (n: number) => ({ epoch: n, loss: 1, accuracy: 0.5, valLoss: 1, valAccuracy: 0.5, seconds: 1, validationSeconds: 0.1 });
const base64 = (text: string | Buffer) => Buffer.from(text).toString('base64');
const modelJson = base64(JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['weights.bin'], weights: [] }] }));

function good() {
  return {
    result: {
      outcome: 'completed',
      epochs: [epoch(1), epoch(2), epoch(3)],
      resumedFrom: 1,
      reachedEnd: true,
      bestEpoch: 3,
      stoppedEarly: false,
      paramCount: 100,
      seconds: 3,
      test: {
        loss: 0.4,
        accuracy: 1,
        seconds: 0.2,
        confusion: Array.from({ length: 10 }, (_, row) => Array.from({ length: 10 }, (_, column): number => (row === column ? 30 : 0))),
        classes: Array.from({ length: 10 }, () => ({ precision: 1, recall: 1, f1: 1, support: 30 })),
        mistakes: [{ index: 3, label: 1, predicted: 2, confidence: 0.9 }],
      },
    },
    backend: { name: 'wasm', gpu: false, tfjsVersion: '4.0.0' },
    worker: 'host-a:12',
    model: { 'model.json': modelJson, 'weights.bin': base64(Buffer.alloc(400)) },
  };
}

describe('what comes back from the queue is checked', () => {
  it('takes a well-formed result, a diverged loss included', () => {
    expect(checkedResult(good(), config).worker).toBe('host-a:12');
    const diverged = good();
    diverged.result.epochs[2]!.loss = Number.NaN;
    expect(() => checkedResult(diverged, config)).not.toThrow();
  });

  it.each<[string, (result: ReturnType<typeof good>) => void, RegExp]>([
    ['an unknown outcome', (r) => void (r.result.outcome = 'won'), /result\.outcome/],
    ['more epochs than train.epochs', (r) => void r.result.epochs.push(epoch(4)), /result\.epochs has more than 3/],
    ['an epoch that is not a record', (r) => void ((r.result.epochs as unknown[])[0] = 'x'), /result\.epochs\[0\] is not an object/],
    ['a confusion matrix that is not 10×10', (r) => void r.result.test.confusion.pop(), /confusion does not have 10 rows/],
    ['a negative count', (r) => void (r.result.test.confusion[0]![0] = -1), /confusion\[0\]\[0\]/],
    ['too many mistakes', (r) => void (r.result.test.mistakes = Array.from({ length: 49 }, () => r.result.test.mistakes[0]!)), /mistakes has more than 48/],
    ['a model file of another name', (r) => void ((r.model as Record<string, string>)['../../evil'] = 'eA=='), /is not one a saved model has/],
    ['weights larger than the parameters fill', (r) => void (r.model['weights.bin'] = base64(Buffer.alloc(200_000))), /weights\.bin is larger than 100 parameters/],
    ['a manifest naming another file', (r) => void (r.model['model.json'] = base64(JSON.stringify({ weightsManifest: [{ paths: ['/etc/passwd'] }] }))), /names weight files other than weights\.bin/],
    ['a model.json that is not JSON', (r) => void (r.model['model.json'] = base64('{')), /model\.json is not JSON/],
  ])('refuses %s, naming the worker', (_what, spoil, problem) => {
    const result = good();
    spoil(result);
    expect(() => checkedResult(result, config)).toThrow(/^the result from host-a:12 is malformed \(/);
    expect(() => checkedResult(result, config)).toThrow(problem);
  });

  it('ignores malformed progress, keeps well-formed progress', () => {
    expect(checkedProgress({ type: 'epoch', record: epoch(2) }, config)).toEqual({ type: 'epoch', record: epoch(2) });
    expect(checkedProgress({ type: 'ready', backend: good().backend, loadSeconds: 1, restored: [epoch(1)] }, config)?.type).toBe('ready');
    expect(checkedProgress({ type: 'epoch', record: epoch(9) }, config)).toBeUndefined();
    expect(checkedProgress({ type: 'epoch' }, config)).toBeUndefined();
    expect(checkedProgress({ type: 'batch', epoch: 1, batch: 'x', batches: 2, loss: 1 }, config)).toBeUndefined();
    expect(checkedProgress('garbage', config)).toBeUndefined();
    expect(checkedProgress(null, config)).toBeUndefined();
  });

  it('strips control characters from job text a terminal shows', () => {
    expect(printable('exp\u001b[2J\rname\u0007')).toBe('exp[2Jname');
  });

  it('a worker refuses a job whose run id could name a path', () => {
    expect(() => checkedQueuedTrial({ experiment: 'x', hash: '0123456789abcdef', params: {}, repeatIndex: 0, runId: '../../x', config: {} })).toThrow(/its run id/);
  });
});
