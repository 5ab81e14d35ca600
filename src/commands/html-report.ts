import type { Leaderboard } from '../report/leaderboard.js';
import { htmlReportData } from '../report/html/report-data.js';
import { renderHtmlReport } from '../report/html/render-html.js';
import { reportTestSet } from '../report/html/test-set.js';
import type { Run, RunFilter, RunStore } from '../store/run-store.js';
import { writeFileAtomically } from './output-paths.js';

/** `runner report --html FILE`: gathers curves and test images for the ranked runs and writes one self-contained page; `file` is checked by `outputFile`. */
export function writeHtmlReport(store: RunStore, runs: Run[], board: Leaderboard, options: { file: string; dataDir?: string; filter: RunFilter }): string {
  const galleryRun = runs.find((r) => r.id === board.entries[0]?.runIds[0]);
  const data = htmlReportData({
    runs,
    board,
    epochs: (id) => store.epochs(id),
    testSet: galleryRun ? reportTestSet(galleryRun, options.dataDir) : { missing: 'no runs to show' },
    database: store.path,
    filters: describe(options.filter),
    generatedAt: new Date().toISOString(),
  });
  writeFileAtomically(options.file, renderHtmlReport(data));
  const note = data.gallery.note && galleryRun ? ` (no image gallery: ${data.gallery.note})` : '';
  const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  const contents = [
    count(board.entries.length, 'leaderboard entry', 'leaderboard entries'),
    count(data.confusions.length, 'confusion matrix', 'confusion matrices'),
    count(data.sweeps.length, 'sweep plot', 'sweep plots'),
    ...(data.ashaSearches.length ? [count(data.ashaSearches.length, 'ASHA rungs chart', 'ASHA rungs charts')] : []),
    count(data.gallery.images.length, 'misclassified image', 'misclassified images'),
  ];
  return `wrote ${options.file}: ${contents.join(', ')}${note}`;
}

function describe(filter: RunFilter): string[] {
  return [
    filter.status && `status ${filter.status}`,
    filter.experiment && `experiment ${filter.experiment}`,
    filter.branch && `branch ${filter.branch}`,
    filter.since && `since ${filter.since}`,
  ].filter((f): f is string => Boolean(f));
}
