import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { readLocation } from '../data/dataset.js';
import { locateDataset } from '../data/locate.js';
import type { Leaderboard } from '../report/leaderboard.js';
import { htmlReportData, type HtmlReportInput } from '../report/html/report-data.js';
import { renderHtmlReport } from '../report/html/render-html.js';
import type { RunFilter, RunRow, RunStore } from '../store/run-store.js';

/** `runner report --html FILE`: gathers curves and test images for the ranked runs and writes one self-contained page. */
export function writeHtmlReport(store: RunStore, runs: RunRow[], board: Leaderboard, options: { file: string; dataDir?: string; filter: RunFilter }): string {
  const galleryRun = runs.find((r) => r.id === board.entries[0]?.runIds[0]);
  const data = htmlReportData({
    runs,
    board,
    epochs: (id) => store.epochs(id),
    testSet: galleryRun ? testSet(galleryRun, options.dataDir) : { missing: 'no runs to show' },
    database: store.path,
    filters: describe(options.filter),
    generatedAt: new Date().toISOString(),
  });
  const file = resolve(options.file);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, renderHtmlReport(data));
  const note = data.gallery.note && galleryRun ? ` (no image gallery: ${data.gallery.note})` : '';
  const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  const contents = [
    count(board.entries.length, 'leaderboard entry', 'leaderboard entries'),
    count(data.confusions.length, 'confusion matrix', 'confusion matrices'),
    count(data.sweeps.length, 'sweep plot', 'sweep plots'),
    count(data.gallery.images.length, 'misclassified image', 'misclassified images'),
  ];
  return `wrote ${file}: ${contents.join(', ')}${note}`;
}

/** The test set the run was scored on, found where a sweep would look; a report never downloads it. */
function testSet(run: RunRow, dataDir: string | undefined): HtmlReportInput['testSet'] {
  const experimentPath = (JSON.parse(run.config_json) as { data?: { path?: string } }).data?.path;
  const location = locateDataset({ experimentPath, dataDir });
  if (!location) return { missing: 'Fashion-MNIST was not found on this machine; pass --data-dir DIR to show the images' };
  if ('missingExplicit' in location) return { missing: `Fashion-MNIST is not in ${location.missingExplicit.dir} (${location.missingExplicit.via})` };
  return readLocation(location).test;
}

function describe(filter: RunFilter): string[] {
  return [
    filter.status && `status ${filter.status}`,
    filter.experiment && `experiment ${filter.experiment}`,
    filter.branch && `branch ${filter.branch}`,
    filter.since && `since ${filter.since}`,
  ].filter((f): f is string => Boolean(f));
}
