import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { UserError } from '../errors.js';
import { findRun } from './find-run.js';
import { copyDirectoryAtomically, isInside, outputDirectory } from './output-paths.js';
import { readingRuns } from './run-database.js';

/** Copies a run's saved model (tfjs layers format: model.json + weights.bin) to `target`, loadable with tf.loadLayersModel. */
export function exportModelCommand(runId: string, target: string | undefined, options: { db?: string }): Promise<number> {
  return readingRuns(options.db, (store) => {
    const run = findRun(store, runId);
    if (!run.modelDir || !existsSync(run.modelDir)) {
      throw new UserError(`run ${run.id} has no saved model (status ${run.status}); only completed runs save their weights`);
    }
    const given = target ?? `${run.experiment}-${run.id}`;
    const destination = outputDirectory(given, 'export-model');
    // The run's folder belongs to the run: `runner rm` and `gc` delete it whole, a copy inside with it.
    const runFolder = dirname(run.modelDir);
    if (isInside(destination, runFolder)) throw new UserError(`export-model ${given}: ${destination} is inside run ${run.id}'s own folder ${runFolder}; export somewhere else`);
    copyDirectoryAtomically(run.modelDir, destination);
    console.log(`wrote ${destination} (model.json + weights.bin); load it with tf.loadLayersModel (a file:// URL under tfjs-node)`);
    return 0;
  });
}
