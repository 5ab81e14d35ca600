import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadExperiment, parseOverride } from '../src/config/load-experiment.js';
import type { TrialConfig } from '../src/config/resolved.js';
import { estimateDuration, wallTime, type MeasuredRun, type PlannedTrial } from '../src/sweep/estimate.js';
import { expandTrials } from '../src/sweep/expand.js';
import { modelCost } from '../src/model/cost.js';
import { ROOT, writeTemp } from './helpers/cli.js';
import { tinyExperiment } from './helpers/sweeps.js';

/** The first trial of experiments/quick.yaml with `--set` overrides. */
function quick(...sets: string[]): { config: TrialConfig; hash: string } {
  const [trial] = expandTrials(loadExperiment(join(ROOT, 'experiments', 'quick.yaml'), sets.map(parseOverride)));
  return trial!;
}

const MACS = 226_112;

/**
 * quick.yaml cut to 2,000 training images, 3 epochs, validated on the full 10,000-image test set: 0.5 s of
 * training and 2.5 s of validation per epoch, 1 s of warm-up in the first epoch, 2.5 s for the final test,
 * 1.5 s for process start, backend, data and saving. Validation dominates its epochs.
 */
const measuredQuick = (): MeasuredRun => {
  const { config, hash } = quick('data.trainLimit=2000');
  return {
    experiment: 'quick',
    configHash: hash,
    config,
    backend: 'wasm',
    device: null,
    macsPerSample: MACS,
    epochs: 3,
    epochSeconds: 3 * (0.5 + 2.5) + 1,
    firstEpochSeconds: 0.5 + 2.5 + 1,
    validationSeconds: 3 * 2.5,
    firstValidationSeconds: 2.5,
    testSeconds: 2.5,
    wallSeconds: 3 * (0.5 + 2.5) + 1 + 2.5 + 1.5,
  };
};

const planned = (trial: { config: TrialConfig; hash: string }, experiment = 'quick', macsPerSample = MACS): PlannedTrial => ({ ...trial, experiment, macsPerSample });

describe('duration estimates come from measured runs only', () => {
  it('scales training by training samples and validation by validation samples, not both by training samples', () => {
    const estimate = estimateDuration(planned(quick()), [measuredQuick()], { backend: 'wasm' });
    // Per epoch: 12,000 samples at 4,000/s training + 10,000 at 4,000/s scoring = 5.5 s; three of them,
    // then the 10,000-image test (2.5 s) and the fixed 2.5 s (1.5 s start-up + 1 s first-epoch warm-up).
    expect(estimate).toEqual({ seconds: expect.closeTo(3 * 5.5 + 2.5 + 2.5, 9), basis: 'same experiment' });
    // Scaling whole epochs by training samples, as before, predicted 3 × 6 × 3.33 s = 60 s for this trial.
    expect(estimate!.seconds).toBeLessThan(30);
  });

  it('gives a measured config its own steady epochs and fixed costs back', () => {
    const run = measuredQuick();
    expect(estimateDuration(planned(quick('data.trainLimit=2000')), [run], { backend: 'wasm' })).toEqual({ seconds: expect.closeTo(run.wallSeconds, 9), basis: 'same config' });
    const longer = quick('data.trainLimit=2000', 'train.epochs=6');
    // A different config (more epochs) of the same experiment: three more steady 3 s epochs.
    expect(estimateDuration(planned(longer), [run], { backend: 'wasm' })!.seconds).toBeCloseTo(run.wallSeconds + 3 * 3, 9);
  });

  it('scales another experiment by multiply-adds per sample, from the run whose model is closest in cost', () => {
    const hugeModel: MeasuredRun = { ...measuredQuick(), experiment: 'huge', configHash: 'h', macsPerSample: 100 * MACS, epochSeconds: 999, wallSeconds: 2000 };
    const twiceAsCostly = planned(quick(), 'never-run', 2 * MACS);
    const estimate = estimateDuration(twiceAsCostly, [measuredQuick(), hugeModel], { backend: 'wasm' });
    expect(estimate).toEqual({ seconds: expect.closeTo(3 * 2 * 5.5 + 2 * 2.5 + 2.5, 9), basis: 'other experiments' });
  });

  it('keeps runs on one GPU from estimating runs on another: the device is part of where a trial runs', () => {
    const onH200: MeasuredRun = { ...measuredQuick(), backend: 'webgpu', device: 'nvidia-h200' };
    const onSwiftShader: MeasuredRun = { ...onH200, device: 'swiftshader-device-subzero-', epochSeconds: 1000, wallSeconds: 2000 };
    const where = { backend: 'webgpu', device: 'nvidia-h200' };
    expect(estimateDuration(planned(quick('data.trainLimit=2000')), [onSwiftShader, onH200], where)).toEqual({ seconds: expect.closeTo(onH200.wallSeconds, 9), basis: 'same config' });
    expect(estimateDuration(planned(quick()), [onSwiftShader], where)).toBeUndefined();
  });

  it('says nothing rather than guess: no runs, runs on another backend, or old runs without validation time', () => {
    const old: MeasuredRun = { ...measuredQuick(), validationSeconds: null, firstValidationSeconds: null, testSeconds: null };
    expect(estimateDuration(planned(quick()), [], { backend: 'wasm' })).toBeUndefined();
    expect(estimateDuration(planned(quick()), [measuredQuick()], { backend: 'tensorflow' })).toBeUndefined();
    expect(estimateDuration(planned(quick()), [old], { backend: 'wasm' })).toBeUndefined();
    // Its own config is still estimated from its epoch and run times.
    expect(estimateDuration(planned(quick('data.trainLimit=2000')), [old], { backend: 'wasm' })?.basis).toBe('same config');
  });

  it('adds up wall time the way the queue runs trials, n at a time', () => {
    expect(wallTime([10, 10, 10], 1)).toBe(30);
    expect(wallTime([10, 10, 10], 2)).toBe(20);
    expect(wallTime([30, 10, 10, 10], 2)).toBe(30);
    expect(wallTime([], 2)).toBe(0);
  });
});

describe('the size of a model, from its shape-only build', () => {
  it('counts parameters and multiply-adds per sample layer by layer', () => {
    const [tiny] = expandTrials(loadExperiment(writeTemp('tiny.yaml', tinyExperiment('tiny'))));
    // conv 3×3×1→4: 36 weights + 4 biases, applied at 28×28 positions; max-pool reads 28×28×4 values;
    // dense 784→10: 7,840 weights + 10 biases.
    expect(modelCost(tiny!.config)).toEqual({ params: 40 + 7850, macsPerSample: 28 * 28 * 36 + 28 * 28 * 4 + 7840 });
    expect(modelCost(quick().config)).toEqual({ params: 160 + 100_384 + 330, macsPerSample: MACS });
  });
});
