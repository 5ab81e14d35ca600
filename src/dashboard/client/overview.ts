import type { EChartsType } from 'echarts';
import type { LeaderboardEntry, LeaderboardResponse, MetaResponse, RunSummary, RunsResponse } from '../api-types.js';
import { duration, epochsLabel, percent, tagLabels, timestamp } from '../../ui/format.js';
import { getJson, query } from './api.js';
import { chartIn, clearChart, curvesOption, STATUS_COLOURS } from './charts.js';
import { h, replaceChildren, runLink, section, statusBadge } from './dom.js';
import { meanStd, paramText, value } from './format.js';
import { brushedEntries, parallelPlot, type ParallelPlot } from './parallel.js';
import type { View } from './view.js';

export interface Filters {
  experiment?: string;
  branch?: string;
  status?: string;
  tag?: string;
  metric?: string;
}

const FILTER_KEYS = ['experiment', 'branch', 'status', 'tag', 'metric'] as const;
/** A table of thousands of rows takes the browser longer to lay out than everything else on the page together. */
const RUNS_SHOWN = 100;
const ENTRIES_SHOWN = 50;

interface Column {
  id: string;
  title: string;
  sortValue: (e: LeaderboardEntry) => number | string | null;
  cell: (e: LeaderboardEntry) => Node | string;
}

/** The landing page: filters, parallel coordinates, the leaderboard the brushes filter, and every run with its status. */
export class OverviewView implements View {
  private readonly filterBar = h('form', { class: 'filters', id: 'filters' });
  private readonly parallel = h('div', { class: 'chart chart-wide', id: 'parallel' });
  private readonly boardNote = h('p', { class: 'note', id: 'board-note' });
  private readonly board = h('div', { id: 'leaderboard' });
  private readonly recent = h('div', { class: 'chart chart-wide', id: 'recent-curves' });
  private readonly runsTable = h('div', { id: 'runs' });
  private readonly compareButton = h('button', { type: 'button', id: 'compare-selected', disabled: '' }, 'Compare selected');
  private readonly selected = new Set<string>();
  private showAllRuns = false;
  private showAllEntries = false;
  private sort: { column: string; descending: boolean } = { column: 'rank', descending: false };
  private leaderboard: LeaderboardResponse | undefined;
  private plot: ParallelPlot | undefined;
  private brushed: Set<number> | null = null;
  private parallelChart: EChartsType | undefined;

  constructor(
    root: HTMLElement,
    private filters: Filters,
  ) {
    this.compareButton.addEventListener('click', () => (location.hash = `#/compare/${[...this.selected].join(',')}`));
    replaceChildren(
      root,
      this.filterBar,
      section('Swept parameters against test accuracy', 'parallel-section', h('p', { class: 'note' }, 'Drag along an axis to brush it; the leaderboard keeps the entries inside every brush.'), this.parallel),
      section('Leaderboard', 'leaderboard-section', this.boardNote, this.board),
      section('Runs', 'runs-section', this.recent, h('p', { class: 'actions' }, this.compareButton, ' tick two or more runs to compare them'), this.runsTable),
    );
  }

  /** Same view, other filters: keeps the charts and the selection. */
  setFilters(filters: Filters): void {
    this.filters = filters;
  }

  async load(): Promise<void> {
    const filter = { experiment: this.filters.experiment, branch: this.filters.branch, status: this.filters.status, tag: this.filters.tag };
    const [meta, board, runs] = await Promise.all([
      getJson<MetaResponse>('/api/meta'),
      getJson<LeaderboardResponse>(`/api/leaderboard${query({ ...filter, metric: this.filters.metric })}`),
      getJson<RunsResponse>(`/api/runs${query(filter)}`),
    ]);
    this.renderFilters(meta);
    this.leaderboard = board;
    // Charts measure their element, which makes the browser lay out the page: before the long tables are in it.
    this.renderParallel(board);
    this.renderNewestCurves(runs);
    this.renderBoard();
    this.renderRuns(runs.runs);
  }

  private renderFilters(meta: MetaResponse): void {
    const select = (name: keyof Filters, label: string, options: [string, string][]) => {
      const element = h('select', { name, id: `filter-${name}` }, ...options.map(([v, text]) => h('option', { value: v }, text)));
      element.value = this.filters[name] ?? '';
      element.addEventListener('change', () => this.navigate());
      return h('label', {}, label, ' ', element);
    };
    const tags = Object.entries(meta.tags).flatMap(([key, values]) => values.map((v): [string, string] => [`${key}=${v}`, `${key}=${v}`]));
    replaceChildren(
      this.filterBar,
      select('experiment', 'experiment', [['', 'all'], ...meta.experiments.map((e): [string, string] => [e, e])]),
      select('branch', 'branch', [['', 'all'], ...meta.branches.map((b): [string, string] => [b.branch, `${b.branch} (${b.runs})`])]),
      select('status', 'status', [['', 'any (leaderboard: completed)'], ...meta.statuses.map((s): [string, string] => [s, s])]),
      select('tag', 'tag', [['', 'any'], ...tags]),
      select('metric', 'rank by', [['', 'test accuracy'], ['loss', 'test loss'], ['time', 'time']]),
    );
  }

  private navigate(): void {
    const values = Object.fromEntries(FILTER_KEYS.map((key) => [key, (this.filterBar.querySelector<HTMLSelectElement>(`#filter-${key}`)?.value || undefined)]));
    location.hash = `#/${query(values)}`;
  }

  private renderParallel(board: LeaderboardResponse): void {
    this.plot = parallelPlot(board.entries, board.columns);
    this.parallelChart = chartIn(this.parallel, this.plot.option, ['series', 'parallelAxis']);
    if (!this.parallel.dataset.listening) {
      this.parallel.dataset.listening = 'yes';
      this.parallelChart.on('axisareaselected', () => {
        this.brushed = brushedEntries(this.parallelChart!, this.plot!);
        this.renderBoard();
      });
    }
    // Brushes outlive a refresh; the entries under them may have changed.
    this.brushed = brushedEntries(this.parallelChart, this.plot);
  }

  private columns(board: LeaderboardResponse): Column[] {
    const num = (v: number | null) => v;
    return [
      { id: 'rank', title: '#', sortValue: (e) => e.rank, cell: (e) => String(e.rank) },
      { id: 'experiment', title: 'experiment', sortValue: (e) => e.experiment, cell: (e) => e.experiment },
      ...board.columns.map((c): Column => ({ id: `param:${c}`, title: c, sortValue: (e) => (typeof e.params[c] === 'number' ? (e.params[c] as number) : value(e.params[c])), cell: (e) => value(e.params[c]) })),
      { id: 'accuracy', title: 'test accuracy', sortValue: (e) => num(e.accuracy.mean), cell: (e) => meanStd(e.accuracy, 'percent') },
      { id: 'loss', title: 'test loss', sortValue: (e) => num(e.loss.mean), cell: (e) => meanStd(e.loss, 'loss') },
      { id: 'epochs', title: 'epochs', sortValue: (e) => e.epochs, cell: (e) => epochsLabel(e.epochs, e.rungs, e.epochBudget !== null) },
      { id: 'seconds', title: 'time', sortValue: (e) => num(e.seconds.mean), cell: (e) => duration(e.seconds.mean) },
      { id: 'runs', title: 'runs', sortValue: (e) => e.runIds.length, cell: (e) => runsCell(e.runIds) },
      { id: 'backend', title: 'backend', sortValue: (e) => e.backend, cell: (e) => e.backend ?? '' },
      { id: 'branch', title: 'branch', sortValue: (e) => e.branch, cell: (e) => e.branch ?? '' },
    ];
  }

  private renderBoard(): void {
    const board = this.leaderboard!;
    const columns = this.columns(board);
    const sortColumn = columns.find((c) => c.id === this.sort.column) ?? columns[0]!;
    const shown = board.entries.filter((_, i) => !this.brushed || this.brushed.has(i));
    const sorted = [...shown].sort((a, b) => compareValues(sortColumn.sortValue(a), sortColumn.sortValue(b), this.sort.descending));
    const listed = this.showAllEntries ? sorted : sorted.slice(0, ENTRIES_SHOWN);
    const more = h('button', { type: 'button', id: 'show-all-entries' }, `show all ${sorted.length}`);
    more.addEventListener('click', () => {
      this.showAllEntries = true;
      this.renderBoard();
    });
    const metric = { testAccuracy: 'test accuracy', testLoss: 'test loss', seconds: 'time' }[board.metric];
    const status = this.filters.status ?? 'completed';
    const clear = h('button', { type: 'button', id: 'clear-brush' }, 'clear brushes');
    clear.addEventListener('click', () => {
      for (const id of this.plot?.axisIds ?? []) this.parallelChart?.dispatchAction({ type: 'axisAreaSelect', parallelAxisId: id, intervals: [] });
    });
    replaceChildren(
      this.boardNote,
      `${board.entries.length} entr${board.entries.length === 1 ? 'y' : 'ies'} of ${status} runs, ranked by ${metric}; repeats of a config pooled as mean ± std. `,
      this.brushed ? h('span', { class: 'brushed' }, `Brushed: showing ${shown.length} of ${board.entries.length}. `) : null,
      this.brushed ? clear : null,
    );
    const head = columns.map((column) => {
      const arrow = column.id === this.sort.column ? (this.sort.descending ? ' ▼' : ' ▲') : '';
      const th = h('th', { 'data-column': column.id, class: 'sortable', title: 'sort by this column' }, column.title + arrow);
      th.addEventListener('click', () => {
        this.sort = { column: column.id, descending: column.id === this.sort.column ? !this.sort.descending : false };
        this.renderBoard();
      });
      return th;
    });
    const rows = listed.map((entry) => h('tr', { 'data-rank': String(entry.rank) }, ...columns.map((column) => h('td', {}, column.cell(entry)))));
    replaceChildren(
      this.board,
      board.entries.length ? h('table', { class: 'board' }, h('thead', {}, h('tr', {}, ...head)), h('tbody', {}, ...rows)) : h('p', {}, 'No runs match these filters.'),
      listed.length < sorted.length ? h('p', { class: 'note' }, `The first ${listed.length} of ${sorted.length} in this order. `, more) : null,
    );
  }

  private renderRuns(runs: RunSummary[]): void {
    const known = new Set(runs.map((r) => r.id));
    for (const id of this.selected) if (!known.has(id)) this.selected.delete(id);
    const shown = this.showAllRuns ? runs : runs.slice(0, RUNS_SHOWN);
    const more = h('button', { type: 'button', id: 'show-all-runs' }, `show all ${runs.length} runs`);
    more.addEventListener('click', () => {
      this.showAllRuns = true;
      this.renderRuns(runs);
    });
    const rows = shown.map((run) => {
      const box = h('input', { type: 'checkbox', 'aria-label': `select ${run.id}` });
      box.checked = this.selected.has(run.id);
      box.addEventListener('change', () => {
        if (box.checked) this.selected.add(run.id);
        else this.selected.delete(run.id);
        this.updateCompareButton();
      });
      const progress = h('progress', { max: String(run.epochsPlanned ?? run.epochsDone), value: String(run.epochsDone) });
      return h(
        'tr',
        { 'data-run': run.id, 'data-status': run.status, class: `run-row row-${run.status}` },
        h('td', {}, box),
        h('td', {}, runLink(run.id)),
        h('td', {}, run.experiment),
        h('td', {}, statusBadge(run.status), run.error ? h('span', { class: 'error', title: run.error }, ' ⚠') : null),
        h('td', { class: 'epochs' }, progress, ' ', h('span', { class: 'epochs-done' }, `${run.epochsDone}/${run.epochsPlanned ?? '?'}${run.pausedByAsha ? ' · asha' : ''}`)),
        h('td', {}, paramText(run.params)),
        h('td', {}, percent(run.testAccuracy)),
        h('td', {}, duration(run.seconds)),
        h('td', {}, run.branch ?? ''),
        h('td', {}, tagLabels(run.tags)),
        h('td', {}, timestamp(run.startedAt)),
      );
    });
    const head = ['', 'run', 'experiment', 'status', 'epochs', 'params', 'test acc', 'time', 'branch', 'tags', 'started'];
    replaceChildren(
      this.runsTable,
      runs.length ? h('table', { class: 'runs' }, h('thead', {}, h('tr', {}, ...head.map((t) => h('th', {}, t)))), h('tbody', {}, ...rows)) : h('p', {}, 'No runs match these filters.'),
      shown.length < runs.length ? h('p', { class: 'note' }, `The newest ${shown.length} of ${runs.length} runs. `, more) : null,
    );
    this.updateCompareButton();
  }

  private updateCompareButton(): void {
    this.compareButton.disabled = this.selected.size < 2 || this.selected.size > 8;
    this.compareButton.textContent = `Compare selected (${this.selected.size})`;
  }

  /** The newest runs' validation accuracy, growing epoch by epoch while they train. */
  private renderNewestCurves({ runs, newestCurves: curves }: RunsResponse): void {
    // A filter that matches no runs leaves no curves: the chart of the previous filter must not stay.
    if (!curves.length) {
      clearChart(this.recent);
      return;
    }
    const byId = new Map(runs.map((r) => [r.id, r]));
    chartIn(
      this.recent,
      curvesOption(
        'Validation accuracy of the newest runs',
        curves.map((c) => {
          const run = byId.get(c.id)!;
          return { name: `${c.id} ${run.status}`, epochs: c.epochs, dashed: run.status !== 'completed', colour: run.status === 'completed' ? undefined : STATUS_COLOURS[run.status] };
        }),
        [{ key: 'valAccuracy', label: 'val acc' }],
      ),
    );
  }
}

function runsCell(ids: string[]): Node {
  const cell = h('span', { class: 'run-ids' });
  ids.forEach((id, i) => {
    if (i) cell.append(' ');
    cell.append(runLink(id));
  });
  return cell;
}

/** Nulls last whichever way the column is sorted, as the leaderboard ranks them. */
function compareValues(a: number | string | null, b: number | string | null, descending: boolean): number {
  if (a === null || b === null) return (a === null ? 1 : 0) - (b === null ? 1 : 0);
  const order = typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b), undefined, { numeric: true });
  return descending ? -order : order;
}

export function filtersFrom(params: URLSearchParams): Filters {
  return Object.fromEntries(FILTER_KEYS.map((key) => [key, params.get(key) || undefined]));
}
