import { readSet } from '../../data/dataset.js';
import { locateDataset } from '../../data/locate.js';
import type { Run } from '../../store/run-store.js';
import type { HtmlReportInput } from './report-data.js';

/** The test set a run was scored on, found where a sweep would look; a report never downloads it. */
export function reportTestSet(run: Run, dataDir: string | undefined): HtmlReportInput['testSet'] {
  // `data` may be missing from a config written by an older runner.
  const location = locateDataset({ experimentPath: run.config.data?.path, dataDir });
  if (!location) return { missing: 'Fashion-MNIST was not found on this machine; pass --data-dir DIR to show the images' };
  if ('missingExplicit' in location) return { missing: `Fashion-MNIST is not in ${location.missingExplicit.dir} (${location.missingExplicit.via})` };
  return readSet(location, 'test');
}
