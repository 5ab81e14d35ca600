/** Small, shared number formats for the terminal, and for the dashboard's page, which loads this file as it is: so it imports nothing. */
export const percent = (value: number | null | undefined, digits = 2): string => (value == null ? '—' : `${(value * 100).toFixed(digits)}%`);

/** `1 epoch`, `3 epochs`. */
export const plural = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? '' : 's'}`;

export const fixed = (value: number | null | undefined, digits = 4): string => (value == null ? '—' : value.toFixed(digits));

export function duration(seconds: number | null | undefined): string {
  if (seconds == null) return '—';
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  if (m < 60) return `${m}m${String(s).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/**
 * Epochs trained, as every view labels them: a trial that ASHA schedules reads against its top rung (the last of
 * `rungs`), `3/10 · asha` where ASHA stopped it at a rung with epochs left and `10/10` where it reached the top; any
 * other run (`rungs` null) is the bare count, since it trains all its epochs unless early stopping ends it.
 */
export function epochsLabel(epochs: number, rungs: readonly number[] | null, pausedByAsha: boolean): string {
  if (!rungs?.length) return String(epochs);
  return `${epochs}/${rungs[rungs.length - 1]}${pausedByAsha ? ' · asha' : ''}`;
}

/** `train.optimizer.learningRate` → `learningRate`, `model.layers.drop1.rate` → `drop1.rate`. */
export function shortKey(key: string): string {
  const parts = key.split('.');
  return parts.length > 2 && parts[0] === 'model' ? parts.slice(2).join('.') : parts[parts.length - 1]!;
}

/** A swept value in a label: strings as written (`optimizer=adam`), anything else as JSON (`kernelSize=[2,2]`). */
export function formatParam(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** `2026-11-26 10:11:56`: an ISO time as every table shows it (UTC, to the second). */
export const timestamp = (iso: string | null): string => (iso ? iso.replace('T', ' ').slice(0, 19) : '—');

/** `reviewed=yes baseline=true`. */
export const tagLabels = (tags: Record<string, string>): string =>
  Object.entries(tags)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');

/** How every view labels a trial's swept values: `learningRate=0.003 drop1.rate=0.2 optimizer=adam`. */
export function paramLabels(params: Record<string, unknown>): string[] {
  return Object.entries(params).map(([key, value]) => `${shortKey(key)}=${formatParam(value)}`);
}
