import { cpSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { UserError } from '../errors.js';
import { openExistingStore } from './report.js';

/** Copies a run's saved model (tfjs layers format: model.json + weights.bin) to `target`, loadable with tf.loadLayersModel. */
export function exportModelCommand(runId: string, target: string | undefined, options: { db?: string }): number {
  const store = openExistingStore(options.db);
  try {
    const run = store.run(runId);
    if (!run) throw new UserError(`no run matches ${JSON.stringify(runId)}; \`runner list\` shows run ids (a unique prefix is enough)`);
    if (!run.modelDir || !existsSync(run.modelDir)) {
      throw new UserError(`run ${run.id} has no saved model (status ${run.status}); only completed runs save their weights`);
    }
    const destination = resolve(target ?? `${run.experiment}-${run.id}`);
    if (existsSync(destination)) throw new UserError(`${destination} already exists; choose another directory`);
    cpSync(run.modelDir, destination, { recursive: true });
    console.log(`wrote ${destination} (model.json + weights.bin); load it with tf.loadLayersModel (a file:// URL under tfjs-node)`);
    return 0;
  } finally {
    store.close();
  }
}
