import type { BackendName } from '../backend/select.js';
import type { DataLocation } from '../data/locate.js';
import { checkpointDirOf, modelDirOf } from '../store/run-folders.js';
import type { Executor, TrialJob } from './executor.js';
import { runTrialProcess, type TrialProcessEvents, type TrialProcessOutcome } from './trial-process.js';

export interface LocalPoolOptions {
  backend: BackendName;
  gpu?: string;
  /** Where each `data.path` of the sweep's trials was found, checked before any trial starts. */
  data: Map<string | undefined, DataLocation>;
  runsDir: string;
  concurrency: number;
  stallMs: number;
}

/** Trains each trial in its own process on this machine, `concurrency` at a time. */
export class LocalPool implements Executor {
  readonly capacity: number;

  constructor(private readonly options: LocalPoolOptions) {
    this.capacity = options.concurrency;
  }

  run(job: TrialJob, events: TrialProcessEvents, stop: AbortSignal): Promise<TrialProcessOutcome> {
    const { backend, gpu, data, runsDir, stallMs } = this.options;
    return runTrialProcess(
      {
        type: 'run',
        config: job.spec.config,
        backend,
        gpu,
        data: data.get(job.spec.config.data.path)!,
        modelDir: modelDirOf(runsDir, job.runId),
        checkpointDir: checkpointDirOf(runsDir, job.runId),
        untilEpoch: job.untilEpoch,
      },
      events,
      { stop, stallMs },
    );
  }
}
