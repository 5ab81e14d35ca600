import { duration, fixed, formatParam, paramLabels, percent } from '../../ui/format.js';

/** `92.13 ± 0.18%` for repeats, `92.13%` for one run, as `runner report` prints them. */
export function meanStd(stat: { mean: number | null; std: number | null }, unit: 'percent' | 'loss' | 'seconds'): string {
  if (stat.mean === null) return '—';
  if (unit === 'seconds') return duration(stat.mean);
  if (unit === 'loss') return stat.std === null ? fixed(stat.mean) : `${fixed(stat.mean)} ± ${fixed(stat.std)}`;
  return stat.std === null ? percent(stat.mean) : `${(stat.mean * 100).toFixed(2)} ± ${(stat.std * 100).toFixed(2)}%`;
}

export function value(v: unknown): string {
  return v === undefined ? '' : formatParam(v);
}

export function paramText(params: Record<string, unknown>): string {
  return paramLabels(params).join(' ');
}

