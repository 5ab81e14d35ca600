import type { EChartsOption, EChartsType } from 'echarts';
import type { EpochRow } from '../api-types.js';

/** ECharts, loaded by the page from node_modules as a classic script. */
declare const echarts: typeof import('echarts');

export const STATUS_COLOURS: Record<string, string> = { running: '#1f77b4', completed: '#2ca02c', failed: '#d62728', diverged: '#9467bd', interrupted: '#ff7f0e' };
export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22'];

const resizer = new ResizeObserver((entries) => entries.forEach((entry) => echarts.getInstanceByDom(entry.target as HTMLElement)?.resize()));

/** One chart per element, kept across live refreshes so that zoom, brushes and legend choices survive them. */
export function chartIn(element: HTMLElement, option: EChartsOption, replaced: string[] = ['series']): EChartsType {
  let chart = echarts.getInstanceByDom(element);
  if (!chart) {
    chart = echarts.init(element, null, { renderer: 'canvas' });
    resizer.observe(element);
  }
  chart.setOption({ animation: false, ...option }, { replaceMerge: replaced });
  return chart;
}

/** Removes the chart an element holds, if any. */
export function clearChart(element: HTMLElement): void {
  echarts.getInstanceByDom(element)?.dispose();
}

/**
 * Tooltips drawn on the canvas: ECharts' HTML tooltips carry inline styles, which the page's
 * Content-Security-Policy forbids.
 */
const TOOLTIP = { trigger: 'axis', renderMode: 'richText' } as const;

export interface Curve {
  name: string;
  epochs: EpochRow[];
  dashed?: boolean;
  colour?: string;
}

type EpochMetric = 'loss' | 'valLoss' | 'accuracy' | 'valAccuracy';

/** Lines of one or more metrics per curve against the epoch; accuracies in percent. */
export function curvesOption(title: string, curves: Curve[], metrics: { key: EpochMetric; label: string }[]): EChartsOption {
  const accuracy = metrics.every((m) => m.key.toLowerCase().includes('accuracy'));
  return {
    title: { text: title, textStyle: { fontSize: 13 } },
    tooltip: TOOLTIP,
    legend: { type: 'scroll', bottom: 0 },
    grid: { left: 50, right: 16, top: 36, bottom: 56 },
    xAxis: { type: 'value', name: 'epoch', minInterval: 1, min: 1 },
    yAxis: { type: 'value', scale: true, name: accuracy ? '%' : '' },
    series: curves.flatMap((curve, i) =>
      metrics.map((metric, j) => ({
        type: 'line' as const,
        name: metrics.length === 1 ? curve.name : curves.length === 1 ? metric.label : `${curve.name} ${metric.label}`,
        data: curve.epochs.map((e) => [e.epoch, e[metric.key] === null ? null : accuracy ? e[metric.key]! * 100 : e[metric.key]]),
        showSymbol: true,
        symbolSize: 5,
        lineStyle: { type: curve.dashed || j > 0 ? ('dashed' as const) : ('solid' as const) },
        color: curve.colour ?? PALETTE[(i * metrics.length + j) % PALETTE.length],
      })),
    ),
  };
}

/**
 * A confusion matrix as a heatmap: rows true classes (top to bottom), columns predicted. Cells are coloured by their
 * share of the true class, as the terminal's heatmap is; `diverging` colours changes of that share (−1 … 1).
 */
export function heatmapOption(title: string, classes: readonly string[], cells: { shares: number[][]; labels: number[][] }, diverging = false): EChartsOption {
  const data = cells.shares.flatMap((row, t) => row.map((share, p) => [p, t, share, cells.labels[t]![p]!]));
  const limit = diverging ? Math.max(0.01, ...data.map((d) => Math.abs(d[2]!))) : 1;
  return {
    title: { text: title, textStyle: { fontSize: 13 } },
    tooltip: { renderMode: 'richText' },
    grid: { left: 90, right: 16, top: 36, bottom: 90 },
    xAxis: { type: 'category', data: [...classes], name: 'predicted', nameLocation: 'middle', nameGap: 70, axisLabel: { rotate: 45, interval: 0 } },
    yAxis: { type: 'category', data: [...classes], inverse: true, axisLabel: { interval: 0 } },
    visualMap: {
      show: false,
      dimension: 2,
      min: diverging ? -limit : 0,
      max: limit,
      inRange: { color: diverging ? ['#b2182b', '#f7f7f7', '#2166ac'] : ['#f7fbff', '#08306b'] },
    },
    series: [
      {
        type: 'heatmap',
        data,
        label: { show: true, fontSize: 9, formatter: (p) => formatCell((p.data as number[])[3]!, diverging) },
        emphasis: { disabled: true },
      },
    ],
  };
}

function formatCell(value: number, diverging: boolean): string {
  if (!diverging) return value ? String(value) : '';
  const points = value * 100;
  return Math.abs(points) < 0.05 ? '' : `${points > 0 ? '+' : ''}${points.toFixed(1)}`;
}
