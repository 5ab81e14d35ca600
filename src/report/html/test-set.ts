import { readLocation } from '../../data/dataset.js';
import { locateDataset } from '../../data/locate.js';
import type { RunRow } from '../../store/run-store.js';
import type { HtmlReportInput } from './report-data.js';

/** The test set a run was scored on, found where a sweep would look; a report never downloads it. */
export function reportTestSet(run: RunRow, dataDir: string | undefined): HtmlReportInput['testSet'] {
  const experimentPath = (JSON.parse(run.config_json) as { data?: { path?: string } }).data?.path;
  const location = locateDataset({ experimentPath, dataDir });
  if (!location) return { missing: 'Fashion-MNIST was not found on this machine; pass --data-dir DIR to show the images' };
  if ('missingExplicit' in location) return { missing: `Fashion-MNIST is not in ${location.missingExplicit.dir} (${location.missingExplicit.via})` };
  return readLocation(location).test;
}
