import type { CompareResponse } from '../api-types.js';
import { duration, fixed, percent } from '../../ui/format.js';
import { getJson, query } from './api.js';
import { chartIn, curvesOption, heatmapOption, PALETTE } from './charts.js';
import { h, replaceChildren, runLink, section, statusBadge, table } from './dom.js';
import { paramText, value } from './format.js';
import type { View } from './view.js';

const METRIC_FORMATS: Record<string, (v: number | null) => string> = {
  testAccuracy: (v) => percent(v),
  testLoss: (v) => fixed(v),
  epochsDone: (v) => (v === null ? '—' : String(v)),
  bestEpoch: (v) => (v === null ? '—' : String(v)),
  seconds: (v) => duration(v),
  paramCount: (v) => (v === null ? '—' : v.toLocaleString('en')),
};

/** Two or more runs: curves overlaid, the config paths where they differ, and how the first run's confusions moved in each other. */
export class CompareView implements View {
  private readonly runs = h('div', { id: 'compare-runs' });
  private readonly accuracy = h('div', { class: 'chart', id: 'compare-accuracy' });
  private readonly loss = h('div', { class: 'chart', id: 'compare-loss' });
  private readonly config = h('div', { id: 'config-differences' });
  private readonly confusions = h('div', { id: 'confusion-differences' });

  constructor(
    root: HTMLElement,
    private readonly ids: string[],
  ) {
    replaceChildren(
      root,
      h('h1', {}, `Comparing ${ids.length} runs`),
      this.runs,
      section('Learning curves', 'compare-curves', h('div', { class: 'pair' }, this.accuracy, this.loss)),
      section('Config differences', 'compare-config', this.config),
      section('Confusion differences (against the first run)', 'compare-confusion', this.confusions),
    );
  }

  async load(): Promise<void> {
    const data = await getJson<CompareResponse>(`/api/compare${query({ ids: this.ids.join(',') })}`);
    const first = data.runs[0]!;
    const metricRows = data.against[0]!.metrics.map((m) => {
      const format = METRIC_FORMATS[m.name]!;
      return [m.name, ...data.runs.map((run) => format(run[m.name]))];
    });
    replaceChildren(
      this.runs,
      table(
        ['', ...data.runs.map((r) => r.id)],
        [
          ['run', ...data.runs.map((r) => h('span', {}, runLink(r.id), ' ', statusBadge(r.status)))],
          ['experiment', ...data.runs.map((r) => r.experiment)],
          ['params', ...data.runs.map((r) => paramText(r.params))],
          ['branch', ...data.runs.map((r) => r.git.branch ?? '')],
          ...metricRows,
        ],
        { class: 'compare' },
      ),
    );
    const curves = data.runs.map((run, i) => ({ name: run.id, epochs: run.epochs, colour: PALETTE[i % PALETTE.length] }));
    chartIn(this.accuracy, curvesOption('Validation accuracy', curves, [{ key: 'valAccuracy', label: 'val acc' }]));
    chartIn(this.loss, curvesOption('Validation loss', curves, [{ key: 'valLoss', label: 'val loss' }]));
    replaceChildren(
      this.config,
      data.configDifferences.length
        ? table(['path', ...data.runs.map((r) => r.id)], data.configDifferences.map((d) => [d.path, ...d.values.map(value)]), { class: 'config-diff' })
        : h('p', {}, 'The configs are identical.'),
    );
    replaceChildren(
      this.confusions,
      ...data.against.map((against, i) => {
        const block = h('div', { class: 'against' }, h('h3', {}, `${against.b} against ${against.a}`));
        if (!against.confusionDelta || !against.classes) return (block.append(h('p', {}, 'Both runs need a confusion matrix (finished runs have one).')), block);
        const chart = h('div', { class: 'chart chart-square', id: `confusion-delta-${i}` });
        const recall = table(
          ['class', `recall ${against.a}`, `recall ${against.b}`, 'change'],
          against.classes.map((c) => [first.classes[c.classIndex]!, percent(c.recallA, 1), percent(c.recallB, 1), `${c.delta >= 0 ? '+' : ''}${(c.delta * 100).toFixed(1)} pts`]),
        );
        block.append(h('div', { class: 'pair' }, chart, recall));
        // After insertion, so that ECharts measures the element's real size.
        queueMicrotask(() =>
          chartIn(chart, heatmapOption('Change of each cell\'s share of its true class (points)', first.classes, { shares: against.confusionDelta!, labels: against.confusionDelta! }, true)),
        );
        return block;
      }),
    );
  }
}
