import type { EChartsOption, EChartsType } from 'echarts';
import type { LeaderboardEntry } from '../api-types.js';
import { value } from './format.js';

interface Axis {
  id: string;
  name: string;
  type: 'value' | 'log' | 'category';
  categories?: string[];
  /** Filter counts and layer sizes: no ticks between whole numbers. */
  integers?: boolean;
  of: (entry: LeaderboardEntry) => number | string | null;
}

/** A parallel-coordinates line per ranked entry with a test accuracy, and which entry each line is. */
export interface ParallelPlot {
  option: EChartsOption;
  lineEntries: number[];
  axisIds: string[];
}

/** Lines across learning rates a hundredfold apart bunch up on a linear axis. */
const LOG_SPAN = 50;

/** Swept parameters (and the experiment and branch, when several are ranked) against test accuracy, one line per leaderboard entry. */
export function parallelPlot(entries: LeaderboardEntry[], columns: string[]): ParallelPlot {
  const axes: Axis[] = [];
  if (new Set(entries.map((e) => e.experiment)).size > 1) axes.push(categoryAxis('experiment', 'experiment', entries, (e) => e.experiment));
  // The leaderboard ranks a config once per branch: the same swept values may reach different accuracies.
  if (new Set(entries.map((e) => e.branch)).size > 1) axes.push(categoryAxis('branch', 'branch', entries, (e) => e.branch ?? ''));
  for (const column of columns) {
    const values = entries.map((e) => e.params[column]).filter((v) => v !== undefined);
    const name = column.split('.').slice(-2).join('.');
    if (values.every((v): v is number => typeof v === 'number')) {
      const positive = values.every((v) => v > 0);
      const span = positive ? Math.max(...values) / Math.min(...values) : 0;
      const integers = values.every((v) => Number.isInteger(v));
      axes.push({ id: `param:${column}`, name, type: span >= LOG_SPAN ? 'log' : 'value', integers, of: (e) => (typeof e.params[column] === 'number' ? (e.params[column] as number) : null) });
    } else {
      axes.push(categoryAxis(`param:${column}`, name, entries, (e) => value(e.params[column])));
    }
  }
  axes.push({ id: 'accuracy', name: 'test accuracy %', type: 'value', of: (e) => (e.accuracy.mean === null ? null : e.accuracy.mean * 100) });
  const lineEntries = entries.flatMap((e, i) => (e.accuracy.mean === null ? [] : [i]));
  const data = lineEntries.map((i) => axes.map((axis) => axis.of(entries[i]!)));
  const accuracies = data.map((row) => row[row.length - 1] as number);
  return {
    lineEntries,
    axisIds: axes.map((axis) => axis.id),
    option: {
      parallel: { left: 70, right: 90, top: 50, bottom: 30, parallelAxisDefault: { nameGap: 16, nameTextStyle: { fontSize: 12 }, areaSelectStyle: { width: 24 } } },
      parallelAxis: axes.map((axis, dim) => ({ id: axis.id, dim, name: axis.name, type: axis.type, data: axis.categories, scale: axis.type === 'value', minInterval: axis.integers ? 1 : undefined })),
      visualMap: {
        show: false,
        dimension: axes.length - 1,
        min: accuracies.length ? Math.min(...accuracies) : 0,
        max: accuracies.length ? Math.max(...accuracies) : 100,
        inRange: { color: ['#d73027', '#fee08b', '#1a9850'] },
      },
      series: [{ id: 'entries', type: 'parallel', data, lineStyle: { width: 2, opacity: 0.7 }, inactiveOpacity: 0.06, activeOpacity: 1 }],
    },
  };
}

function categoryAxis(id: string, name: string, entries: LeaderboardEntry[], of: (e: LeaderboardEntry) => string): Axis {
  return { id, name, type: 'category', categories: [...new Set(entries.map(of))].sort(), of };
}

/** ECharts' own verdict on the brushes: what its parallel series reports, not a second reading of the intervals. */
interface ParallelSeriesModel {
  getRawIndicesByActiveState(state: 'active' | 'inactive' | 'normal'): number[];
}

/** Entries the brushes keep, or null when no axis is brushed. */
export function brushedEntries(chart: EChartsType, plot: ParallelPlot): Set<number> | null {
  const series = (chart as unknown as { getModel(): { getSeriesByIndex(i: number): ParallelSeriesModel | undefined } }).getModel().getSeriesByIndex(0);
  if (!series || series.getRawIndicesByActiveState('normal').length === plot.lineEntries.length) return null;
  return new Set(series.getRawIndicesByActiveState('active').map((line) => plot.lineEntries[line]!));
}
