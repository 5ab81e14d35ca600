import type { TrialConfig } from '../config/resolved.js';
import type { RunTiming } from '../store/run-store.js';

/** A completed run's measured costs, with its parsed config and its model's forward multiply-adds per sample. */
export type MeasuredRun = Omit<RunTiming, 'config'> & { config: TrialConfig; macsPerSample: number };

export interface PlannedTrial {
  experiment: string;
  hash: string;
  config: TrialConfig;
  macsPerSample: number;
}

export type EstimateBasis = 'same config' | 'same experiment' | 'other experiments';

export interface Estimate {
  seconds: number;
  /** What the figure rests on: this config measured, a sibling trial of its experiment, or another experiment's model. */
  basis: EstimateBasis;
}

const TRAIN_SAMPLES = 60000;
const TEST_SAMPLES = 10000;

/** Training samples one epoch sees (trainLimit, minus a held-out validation fraction). */
export function samplesPerEpoch(config: TrialConfig): number {
  const train = config.data.trainLimit ?? TRAIN_SAMPLES;
  return typeof config.data.validation === 'number' ? train - heldOut(config) : train;
}

/** Samples scored after every epoch: the test set, or the held-out part of the training set. */
export function validationSamples(config: TrialConfig): number {
  return typeof config.data.validation === 'number' ? heldOut(config) : testSamples(config);
}

export function testSamples(config: TrialConfig): number {
  return config.data.testLimit ?? TEST_SAMPLES;
}

function heldOut(config: TrialConfig): number {
  return Math.max(1, Math.round((config.data.trainLimit ?? TRAIN_SAMPLES) * (config.data.validation as number)));
}

/** Where the trial will run: runs elsewhere (another backend, or another GPU under webgpu) say nothing about its speed. */
export interface Where {
  backend: string;
  device?: string | null;
}

/**
 * A trial's duration on `where`, from measurements only. The same config measured before gives its epoch time
 * and its fixed costs as they were. Otherwise a measured run, of the same experiment when there is one, lends
 * three figures that are scaled apart: training throughput (by training samples × multiply-adds), scoring
 * throughput (by validation and test samples × multiply-adds) and its fixed cost per trial (process start,
 * backend, data load, warm-up, saving). Of those runs, the ones whose model is closest in multiply-adds are used,
 * since per-sample overheads weigh more for small models. No measurement, no estimate.
 */
export function estimateDuration(trial: PlannedTrial, measured: MeasuredRun[], where: Where): Estimate | undefined {
  const { config, macsPerSample: macs } = trial;
  const epochs = config.train.epochs;
  const onBackend = measured.filter((m) => m.backend === where.backend && (m.device ?? null) === (where.device ?? null));
  const same = onBackend.filter((m) => m.configHash === trial.hash).map(pace);
  if (same.length) return { seconds: mean(same.map((p) => p.epoch * epochs + p.fixed)), basis: 'same config' };

  const split = onBackend.flatMap((run) => {
    const p = splitPace(run);
    return p ? [{ run, pace: p }] : [];
  });
  const siblings = split.filter((s) => s.run.experiment === trial.experiment);
  const pool = siblings.length ? siblings : split;
  if (!pool.length) return undefined;
  const seconds = closestInCost(pool, macs).map(({ run, pace: p }) => {
    const trainRate = (samplesPerEpoch(run.config) * run.macsPerSample) / p.train;
    const scoreRate = ((validationSamples(run.config) + testSamples(run.config)) * run.macsPerSample) / (p.validation + p.test);
    const perEpoch = (samplesPerEpoch(config) * macs) / trainRate + (validationSamples(config) * macs) / scoreRate;
    return perEpoch * epochs + (testSamples(config) * macs) / scoreRate + p.fixed;
  });
  return { seconds: mean(seconds), basis: siblings.length ? 'same experiment' : 'other experiments' };
}

/**
 * A run's steady pace: seconds per epoch from the epochs after the first, which also paid for compiling kernels
 * and warming up; whatever else the run cost is fixed per trial, test included.
 */
function pace(m: MeasuredRun): { epoch: number; fixed: number } {
  const epoch = m.epochs > 1 ? (m.epochSeconds - m.firstEpochSeconds) / (m.epochs - 1) : m.epochSeconds;
  return { epoch, fixed: Math.max(0, m.wallSeconds - epoch * m.epochs) };
}

/** The steady pace split into training, validation and test seconds, and the fixed rest; only runs that recorded them. */
function splitPace(m: MeasuredRun): { train: number; validation: number; test: number; fixed: number } | undefined {
  if (m.validationSeconds === null || m.firstValidationSeconds === null || m.testSeconds === null) return undefined;
  const { epoch, fixed } = pace(m);
  const validation = m.epochs > 1 ? (m.validationSeconds - m.firstValidationSeconds) / (m.epochs - 1) : m.validationSeconds;
  return { train: epoch - validation, validation, test: m.testSeconds, fixed: Math.max(0, fixed - m.testSeconds) };
}

/** The runs whose models are nearest to `macs` on a log scale (all of them when they share one model size). */
function closestInCost<T extends { run: MeasuredRun }>(runs: T[], macs: number): T[] {
  const distance = (r: T) => Math.abs(Math.log(r.run.macsPerSample / macs));
  const nearest = Math.min(...runs.map(distance));
  return runs.filter((r) => distance(r) === nearest);
}

/**
 * Wall time of running trials of these durations in order, `concurrency` at a time, each starting as soon as a
 * slot is free: what the sweep's queue does.
 */
export function wallTime(durations: number[], concurrency: number): number {
  const slots = new Array<number>(Math.max(1, concurrency)).fill(0);
  for (const seconds of durations) {
    const free = slots.indexOf(Math.min(...slots));
    slots[free] = slots[free]! + seconds;
  }
  return Math.max(...slots);
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}
