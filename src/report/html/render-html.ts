import stableStringify from 'fast-json-stable-stringify';
import { IMAGE_SIZE } from '../../data/classes.js';
import type { AshaMetric } from '../../config/resolved.js';
import { duration, epochsLabel, plural, timestamp } from '../../ui/format.js';
import { metricName } from '../depth.js';
import { higherIsBetter } from '../../trial/epoch-metrics.js';
import type { RankMetric, Stat } from '../leaderboard.js';
import { entryEpochsLabel, hasPaused, PAUSED_LEGEND } from '../render-leaderboard.js';
import type { AshaSearchView, HtmlReportData, SweepPlot } from './report-data.js';
import { greyscalePng, pngDataUri } from './png.js';
import { confusionHeatmap, escapeHtml as esc, lineChart, niceTicks, rungChart, rungColour, sweepChart, type Tick } from './svg.js';

const METRIC_NAMES: Record<RankMetric, string> = { testAccuracy: 'test accuracy', testLoss: 'test loss', seconds: 'seconds' };

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf'];

/** The whole report as one HTML document with inline CSS, SVG and PNG data URIs: no network, no script. */
export function renderHtmlReport(d: HtmlReportData): string {
  const body = [header(d), leaderboardSection(d), curvesSection(d), confusionSection(d), sweepSection(d), ashaSection(d), gallerySection(d)].join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>runner report</title>
<style>${STYLE}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

function header(d: HtmlReportData): string {
  const runs = d.board.entries.reduce((n, e) => n + e.runIds.length, 0);
  const facts = [`generated ${timestamp(d.generatedAt)} UTC`, `database ${d.database}`, `${plural(runs, 'run')} in ${d.board.entries.length} entr${d.board.entries.length === 1 ? 'y' : 'ies'}`, ...d.filters];
  return `<header><h1>Experiment report</h1><p class="meta">${facts.map(esc).join(' · ')}</p></header>`;
}

function leaderboardSection(d: HtmlReportData): string {
  const { board } = d;
  if (!board.entries.length) return section('Leaderboard', '<p>No runs match these filters.</p>');
  const head = ['#', 'experiment', ...board.columns, 'test accuracy', 'test loss', 'epochs', 'time', 'runs', 'backend', 'branch'];
  const rows = board.entries.map((e) =>
    [
      e.rank,
      e.experiment,
      ...board.columns.map((c) => (c in e.params ? JSON.stringify(e.params[c]) : '')),
      stat(e.accuracy, (v) => `${(v * 100).toFixed(2)}%`),
      stat(e.loss, (v) => v.toFixed(4)),
      entryEpochsLabel(e),
      duration(e.seconds.mean),
      e.runIds.length === 1 ? e.runIds[0] : `${e.runIds.length} seeds`,
      e.backend ?? '',
      e.branch ?? '',
    ].map((cell) => `<td>${esc(String(cell))}</td>`),
  );
  const table = `<table class="board"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r, i) => `<tr${board.entries[i]!.epochBudget === null ? '' : ' class="paused"'}>${r.join('')}</tr>`)
    .join('')}</tbody></table>`;
  const legend = hasPaused(board) ? `<p class="meta">${esc(PAUSED_LEGEND)}</p>` : '';
  return section(`Leaderboard (by ${METRIC_NAMES[board.metric]})`, table + legend);
}

function curvesSection(d: HtmlReportData): string {
  const entries = d.curves.filter((c) => c.runs.some((r) => r.epochs.length));
  if (!entries.length) return section('Learning curves', '<p>No epochs recorded.</p>');
  const series = (pick: (e: HtmlReportData['curves'][number]['runs'][number]['epochs'][number]) => number, dashed = false, suffix = '') =>
    entries.flatMap((entry, i) =>
      entry.runs.map((run) => ({ title: `${entry.label}${suffix} (${run.id})`, colour: PALETTE[i % PALETTE.length]!, dashed, points: run.epochs.map((e): [number, number] => [e.epoch, pick(e)]).filter(([, y]) => Number.isFinite(y)) })),
    );
  const maxEpoch = Math.max(...entries.flatMap((e) => e.runs.flatMap((r) => r.epochs.map((x) => x.epoch))));
  const xTicks = niceTicks(1, Math.max(2, maxEpoch), Math.min(8, maxEpoch))
    .filter(Number.isInteger)
    .map((at) => ({ at, label: String(at) }));
  const accuracy = lineChart({ series: series((e) => e.valAccuracy), xLabel: 'epoch', yLabel: 'validation accuracy', xTicks, yFormat: (v) => `${(v * 100).toFixed(0)}%` });
  const loss = lineChart({
    series: [...series((e) => e.loss, false, ' training'), ...series((e) => e.valLoss, true, ' validation')],
    xLabel: 'epoch',
    yLabel: 'loss (solid: training, dashed: validation)',
    xTicks,
    yFormat: (v) => v.toFixed(2),
  });
  const legend = `<ul class="legend">${entries.map((e, i) => `<li><span class="swatch" style="background:${PALETTE[i % PALETTE.length]}"></span>${esc(e.label)}</li>`).join('')}</ul>`;
  return section('Learning curves', `${legend}<div class="charts">${figure(accuracy, 'Validation accuracy per epoch')}${figure(loss, 'Loss per epoch')}</div>`);
}

function confusionSection(d: HtmlReportData): string {
  if (!d.confusions.length) return '';
  const maps = d.confusions.map((c) => figure(confusionHeatmap(c.matrix, d.classes), `${c.label}${c.runIds.length > 1 ? ` (summed over ${c.runIds.length} seeds)` : ''}`));
  return section('Confusion matrices of the best runs', `<p class="meta">rows: true class, columns: predicted class; colour: share of the true class</p><div class="charts">${maps.join('')}</div>`);
}

function sweepSection(d: HtmlReportData): string {
  if (!d.sweeps.length) return '';
  const charts = d.sweeps.map((plot) => {
    const axis = sweepAxis(plot);
    const points = plot.points.map((p) => ({ x: axis.position(p.value), y: p.accuracy, title: `${p.runId}: ${JSON.stringify(p.value)} → ${(p.accuracy * 100).toFixed(2)}%`, colour: PALETTE[0]! }));
    const svg = sweepChart({ points, means: means(points), xTicks: axis.ticks, xLabel: `${plot.param}${axis.log ? ' (log scale)' : ''}`, yLabel: 'test accuracy', yFormat: (v) => `${(v * 100).toFixed(1)}%` });
    return figure(svg, `${plot.experiment}: test accuracy against ${plot.param}`);
  });
  return section('Sweep parameters against test accuracy', `<div class="charts">${charts.join('')}</div>`);
}

/** Per ASHA search: every config's metric by epoch against the rungs, and how far each got. */
function ashaSection(d: HtmlReportData): string {
  if (!d.ashaSearches.length) return '';
  return section('ASHA rungs', d.ashaSearches.map(ashaSearch).join(''));
}

function ashaSearch(search: AshaSearchView): string {
  const { rungs, metric } = search;
  const format = metricFormat(metric);
  const colour = (rung: number) => rungColour(rung, rungs.length);
  // The deepest drawn last, on top of the many stopped at the first rung.
  const series = [...search.configs].reverse().map((c) => ({ title: `${c.label} (${c.runId})`, colour: colour(c.rung), paused: c.paused, points: c.curve }));
  const where = `${search.experiment}${search.branch ? ` · ${search.branch}` : ''}`;
  const chart = rungChart({ series, rungs, xLabel: 'epoch (dashed: the rungs)', yLabel: metricName(metric), yFormat: (v) => (higherIsBetter(metric) ? `${(v * 100).toFixed(0)}%` : v.toFixed(2)) });
  const caption = `${where}: ${metricName(metric)} by epoch; open circle: stopped by ASHA, filled: trained to its end`;
  const head = ['config', 'rung reached', 'epochs', ...rungs.map((epoch, k) => `rung ${k + 1} (epoch ${epoch})`), 'test accuracy'];
  const rows = search.configs.map((c) => {
    const cells = [
      esc(c.label),
      `<span class="swatch" style="background:${colour(c.rung)}"></span>${c.rung} of ${rungs.length}`,
      esc(epochsLabel(c.epochs, rungs, c.paused)),
      ...c.atRungs.map((v) => (v === null ? '' : esc(format(v)))),
      c.testAccuracy === null ? '—' : `${(c.testAccuracy * 100).toFixed(2)}%`,
    ];
    return `<tr${c.paused ? ' class="paused"' : ''}>${cells.map((cell) => `<td>${cell}</td>`).join('')}</tr>`;
  });
  const table = `<table class="board rungs"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
  const about = `rungs at epochs ${rungs.join(', ')}; the best 1/${search.reduction} of each rung by ${metricName(metric)} went on to the next, and a config's test accuracy is from the epoch it stopped at`;
  return `<h3>${esc(where)}</h3><p class="meta">${esc(about)}</p><div class="charts">${figure(chart, caption)}</div>${table}`;
}

/** Accuracies as percentages, losses as they are. */
function metricFormat(metric: AshaMetric): (v: number) => string {
  return higherIsBetter(metric) ? (v) => `${(v * 100).toFixed(2)}%` : (v) => v.toFixed(4);
}

function gallerySection(d: HtmlReportData): string {
  const g = d.gallery;
  if (!g.images.length) return section('Misclassified test images', `<p>${esc(g.note ?? '')}</p>`);
  const cards = g.images.map((m) => {
    const src = pngDataUri(greyscalePng(m.pixels, IMAGE_SIZE, IMAGE_SIZE));
    const alt = `test image ${m.index}: ${d.classes[m.label]} predicted as ${d.classes[m.predicted]}`;
    return `<figure class="mistake"><img src="${src}" width="84" height="84" alt="${esc(alt)}"><figcaption><span class="truth">${esc(d.classes[m.label]!)}</span><span class="guess">→ ${esc(d.classes[m.predicted]!)} ${(m.confidence * 100).toFixed(0)}%</span><span class="index">#${m.index}</span></figcaption></figure>`;
  });
  return section(`Misclassified test images — ${g.label}`, `<p class="meta">true class above, predicted class and its probability below; the first ${g.images.length} mistakes in test-set order</p><div class="gallery">${cards.join('')}</div>`);
}

/** Where a sweep value sits on the x axis: numbers on a linear or (spanning a decade or more) log scale, anything else as categories. */
function sweepAxis(plot: SweepPlot): { position: (v: unknown) => number; ticks: Tick[]; log: boolean } {
  const values = [...new Map(plot.points.map((p) => [stableStringify(p.value ?? null), p.value])).values()];
  const numbers = values.filter((v): v is number => typeof v === 'number');
  if (numbers.length === values.length) {
    const log = Math.min(...numbers) > 0 && Math.max(...numbers) / Math.min(...numbers) >= 10;
    const position = (v: unknown) => (log ? Math.log10(v as number) : (v as number));
    const ticks = numbers.length <= 10 ? numbers.map((v) => ({ at: position(v), label: String(v) })) : niceTicks(Math.min(...numbers.map(position)), Math.max(...numbers.map(position))).map((at) => ({ at, label: String(log ? Number((10 ** at).toPrecision(3)) : at) }));
    return { position, ticks, log };
  }
  const keys = values.map((v) => stableStringify(v ?? null));
  return { position: (v) => keys.indexOf(stableStringify(v ?? null)), ticks: values.map((v, i) => ({ at: i, label: JSON.stringify(v).slice(0, 18) })), log: false };
}

function means(points: { x: number; y: number }[]): [number, number][] {
  const byX = new Map<number, number[]>();
  for (const p of points) byX.set(p.x, [...(byX.get(p.x) ?? []), p.y]);
  return [...byX].sort((a, b) => a[0] - b[0]).map(([x, ys]) => [x, ys.reduce((a, b) => a + b, 0) / ys.length]);
}

function stat(s: Stat, format: (v: number) => string): string {
  if (s.mean === null) return '—';
  return s.std === null ? format(s.mean) : `${format(s.mean)} ± ${format(s.std)}`;
}

function figure(svg: string, caption: string): string {
  return `<figure class="chart-box">${svg}<figcaption>${esc(caption)}</figcaption></figure>`;
}

function section(title: string, body: string): string {
  return `<section><h2>${esc(title)}</h2>${body}</section>`;
}

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1240px; padding: 24px; color: #1d1d1f; background: #fff; }
h1 { margin: 0 0 4px; font-size: 24px; }
h2 { font-size: 18px; margin: 32px 0 12px; border-bottom: 1px solid #e5e5e5; padding-bottom: 4px; }
.meta { color: #666; margin: 0 0 8px; }
table.board { border-collapse: collapse; font-variant-numeric: tabular-nums; }
table.board th, table.board td { padding: 4px 10px; border-bottom: 1px solid #eee; text-align: left; white-space: nowrap; }
table.board th { background: #f6f6f8; }
table.board tbody tr:first-child { font-weight: 600; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
figure { margin: 0; }
.chart-box { border: 1px solid #eee; border-radius: 6px; padding: 8px; }
.chart-box figcaption { color: #444; font-size: 13px; text-align: center; margin-top: 4px; }
.chart text { font-family: inherit; }
.chart text:not([fill]) { fill: #333; }
.legend { list-style: none; padding: 0; margin: 0 0 10px; display: flex; flex-wrap: wrap; gap: 4px 18px; }
h3 { font-size: 15px; margin: 20px 0 4px; }
table.board tr.paused td { color: #777; }
table.rungs { margin-top: 10px; }
.swatch { display: inline-block; width: 14px; height: 4px; margin-right: 6px; vertical-align: middle; border-radius: 2px; }
.gallery { display: grid; grid-template-columns: repeat(auto-fill, minmax(108px, 1fr)); gap: 10px; }
.mistake { text-align: center; border: 1px solid #eee; border-radius: 6px; padding: 6px; }
.mistake img { image-rendering: pixelated; display: block; margin: 0 auto 4px; background: #000; }
.mistake figcaption span { display: block; font-size: 12px; }
.truth { font-weight: 600; color: #1a7f37; }
.guess { color: #c62828; }
.index { color: #999; }
`;
