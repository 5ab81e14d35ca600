import type { DiffResponse, DiffSide, MetaResponse } from '../api-types.js';
import { plural } from '../../ui/format.js';
import { getJson, query } from './api.js';
import { h, replaceChildren, table } from './dom.js';
import { meanStd, paramText } from './format.js';
import type { View } from './view.js';

export interface DiffRefs {
  a?: string;
  b?: string;
  experiment?: string;
}

/** `runner diff A B` between two branches picked from those that have runs. */
export class DiffView implements View {
  private readonly pickers = h('form', { class: 'filters', id: 'diff-pickers' });
  private readonly result = h('div', { id: 'diff-result' });

  constructor(
    root: HTMLElement,
    private readonly refs: DiffRefs,
  ) {
    replaceChildren(root, h('h1', {}, 'Branch diff'), this.pickers, this.result);
  }

  async load(): Promise<void> {
    const meta = await getJson<MetaResponse>('/api/meta');
    const branches = meta.branches.map((b) => b.branch);
    const a = this.refs.a ?? (branches.includes('main') ? 'main' : branches[0]);
    const b = this.refs.b ?? branches.find((x) => x !== a);
    this.renderPickers(branches, meta.experiments, { a, b, experiment: this.refs.experiment });
    if (!a || !b) return replaceChildren(this.result, h('p', {}, 'A diff needs runs on two branches; this database has runs on ' + (branches.length ? branches.join(', ') : 'none') + '.'));
    if (a === b) return replaceChildren(this.result, h('p', {}, 'Pick two different branches.'));
    const diff = await getJson<DiffResponse>(`/api/diff${query({ a, b, experiment: this.refs.experiment })}`);
    this.renderDiff(diff);
  }

  private renderPickers(branches: string[], experiments: string[], chosen: DiffRefs): void {
    const select = (name: keyof DiffRefs, label: string, options: string[], empty?: string) => {
      const element = h('select', { name, id: `diff-${name}` }, ...(empty !== undefined ? [h('option', { value: '' }, empty)] : []), ...options.map((o) => h('option', { value: o }, o)));
      element.value = chosen[name] ?? '';
      element.addEventListener('change', () => {
        const values = Object.fromEntries((['a', 'b', 'experiment'] as const).map((key) => [key, this.pickers.querySelector<HTMLSelectElement>(`#diff-${key}`)!.value || undefined]));
        location.hash = `#/diff${query(values)}`;
      });
      return h('label', {}, label, ' ', element);
    };
    replaceChildren(this.pickers, select('a', 'baseline', branches), select('b', 'against', branches), select('experiment', 'experiment', experiments, 'all'));
  }

  private renderDiff(d: DiffResponse): void {
    const side = (s: DiffSide) => `${meanStd(s.accuracy, 'percent')} (${s.accuracy.n}${s.failed ? `, ${s.failed} failed` : ''}${s.diverged ? `, ${s.diverged} diverged` : ''})`;
    const rows = d.pairs.map((p) => [
      p.experiment,
      paramText(p.params) || p.configId,
      side(p.a),
      side(p.b),
      h('span', { class: p.delta === null ? '' : p.delta < 0 ? 'worse' : 'better' }, p.delta === null ? (p.brokenOnB ? `broken on ${d.refB}` : '—') : `${p.delta >= 0 ? '+' : ''}${(p.delta * 100).toFixed(2)} pts`),
      p.test ? p.test.p.toFixed(3) : '—',
    ]);
    const oneSided = (title: string, list: DiffResponse['onlyA']) =>
      list.length
        ? [h('h3', {}, title), table(['experiment', 'config', 'accuracy', 'changed from the other side'], list.map((o) => [o.experiment, paramText(o.params) || o.configId, side(o.side), o.changedFromOtherSide?.map((c) => c.path).join(', ') ?? '']))]
        : [];
    replaceChildren(
      this.result,
      h('p', { class: 'note' }, `${plural(d.pairs.length, 'config')} on both ${d.refA} and ${d.refB}; ${d.compared} compared. Accuracy: mean ± std over seeds (runs).`),
      d.pairs.length ? table(['experiment', 'config', d.refA, d.refB, 'Δ', 'p (Welch)'], rows, { class: 'diff' }) : h('p', {}, 'No config was run on both.'),
      ...oneSided(`Only on ${d.refA}`, d.onlyA),
      ...oneSided(`Only on ${d.refB}`, d.onlyB),
    );
  }
}
