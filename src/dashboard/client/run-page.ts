import type { RunDetails, RunResponse } from '../api-types.js';
import { duration, fixed, percent, tagLabels, timestamp } from '../../ui/format.js';
import { getJson } from './api.js';
import { chartIn, curvesOption, heatmapOption } from './charts.js';
import { h, replaceChildren, section, statusBadge, table } from './dom.js';
import { paramText } from './format.js';
import type { View } from './view.js';

/** One run, as `runner show` has it: config, curves, confusion heatmap, per-class metrics, misclassified test images. */
export class RunView implements View {
  private readonly header = h('div', { id: 'run-header' });
  private readonly loss = h('div', { class: 'chart', id: 'loss-curves' });
  private readonly accuracy = h('div', { class: 'chart', id: 'accuracy-curves' });
  private readonly confusion = h('div', { class: 'chart chart-square', id: 'confusion' });
  private readonly perClass = h('div', { id: 'per-class' });
  private readonly gallery = h('div', { id: 'gallery', class: 'gallery' });
  private readonly config = h('pre', { id: 'config', class: 'config' });
  private galleryShownFor = '';

  constructor(
    root: HTMLElement,
    private readonly id: string,
  ) {
    replaceChildren(
      root,
      this.header,
      section('Learning curves', 'curves-section', h('div', { class: 'pair' }, this.loss, this.accuracy)),
      section('Confusion matrix and per-class metrics', 'confusion-section', h('div', { class: 'pair' }, this.confusion, this.perClass)),
      section('Misclassified test images', 'gallery-section', this.gallery),
      section('Config', 'config-section', this.config),
    );
  }

  async load(): Promise<void> {
    const { run, confusionShares, topConfusions, images } = await getJson<RunResponse>(`/api/runs/${encodeURIComponent(this.id)}`);
    this.renderHeader(run);
    const curve = [{ name: run.id, epochs: run.epochs }];
    chartIn(this.loss, curvesOption('Loss', curve, [{ key: 'loss', label: 'train' }, { key: 'valLoss', label: 'validation' }]));
    chartIn(this.accuracy, curvesOption('Accuracy', curve, [{ key: 'accuracy', label: 'train' }, { key: 'valAccuracy', label: 'validation' }]));
    if (run.confusion && confusionShares) {
      chartIn(this.confusion, heatmapOption('Confusion (rows: true class; colour: share of the row)', run.classes, { shares: confusionShares, labels: run.confusion }));
      replaceChildren(
        this.perClass,
        table(
          ['class', 'precision', 'recall', 'F1', 'support'],
          (run.classMetrics ?? []).map((m, k) => [run.classes[k] ?? String(k), percent(m.precision, 1), percent(m.recall, 1), percent(m.f1, 1), String(m.support)]),
          { class: 'per-class' },
        ),
        h('h3', {}, 'Most frequent confusions'),
        table(['true', 'predicted as', 'count', 'share of true'], topConfusions.map((c) => [run.classes[c.trueClass]!, run.classes[c.predicted]!, String(c.count), percent(c.rate, 1)])),
      );
    } else {
      replaceChildren(this.perClass, h('p', {}, run.status === 'running' ? 'The confusion matrix comes when the run finishes.' : 'This run has no confusion matrix.'));
    }
    // The images of a finished run do not change: redrawing them on every live refresh would only flicker.
    const galleryKey = `${run.status}:${run.mistakes.length}`;
    if (galleryKey !== this.galleryShownFor) {
      this.galleryShownFor = galleryKey;
      this.renderGallery(run, images);
    }
    this.config.textContent = JSON.stringify(run.config, null, 2);
  }

  private renderHeader(run: RunDetails): void {
    const facts = [
      run.file,
      run.git.branch ? `branch ${run.git.branch}${run.git.commit ? ` @ ${run.git.commit.slice(0, 8)}` : ''}${run.git.dirty ? ' (uncommitted changes)' : ''}` : 'no git',
      `backend ${run.backend ?? '—'}`,
      `seed ${run.seed}`,
      `started ${timestamp(run.startedAt)}`,
    ];
    replaceChildren(
      this.header,
      h('h1', {}, `Run ${run.id} `, h('span', { class: 'experiment' }, run.experiment), ' ', statusBadge(run.status)),
      h('p', { class: 'meta' }, facts.join(' · ')),
      h('p', { class: 'meta' }, paramText(run.params) || 'no swept parameters'),
      h(
        'p',
        { class: 'headline' },
        `test accuracy ${percent(run.testAccuracy)} · test loss ${fixed(run.testLoss)} · ${run.epochsDone}/${run.config.train?.epochs ?? '?'} epochs` +
          `${run.bestEpoch ? ` (best ${run.bestEpoch})` : ''} · ${duration(run.seconds)} · ${run.paramCount?.toLocaleString('en') ?? '—'} weights`,
      ),
      Object.keys(run.tags).length ? h('p', { class: 'meta' }, `tags ${tagLabels(run.tags)}`) : null,
      run.note ? h('p', { class: 'note' }, `note: ${run.note}`) : null,
      run.error ? h('p', { class: 'error' }, `error: ${run.error}`) : null,
    );
  }

  private renderGallery(run: RunDetails, images: RunResponse['images']): void {
    if (!images.available) return replaceChildren(this.gallery, h('p', { class: 'note' }, images.note));
    if (!run.mistakes.length) return replaceChildren(this.gallery, h('p', { class: 'note' }, run.status === 'completed' ? 'This run misclassified no test image.' : 'Misclassified images come when the run finishes.'));
    replaceChildren(
      this.gallery,
      ...run.mistakes.map((m) =>
        h(
          'figure',
          {},
          h('img', { src: `/api/runs/${encodeURIComponent(run.id)}/images/${m.index}.png`, alt: `test image ${m.index}`, width: '84', height: '84' }),
          h('figcaption', {}, `${run.classes[m.label]} → ${run.classes[m.predicted]} ${percent(m.confidence, 0)}`, h('br'), `#${m.index}`),
        ),
      ),
    );
  }
}
