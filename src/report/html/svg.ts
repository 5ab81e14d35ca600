/**
 * Hand-made SVG charts for the HTML report: it must open offline from a single file, and these four small charts
 * (lines, points over a sweep axis, a heatmap, ASHA's rungs) do not justify inlining a charting library.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const WIDTH = 520;
const HEIGHT = 280;
const MARGIN = { left: 58, right: 14, top: 14, bottom: 44 };

export interface Tick {
  at: number;
  label: string;
}

export interface LineSeries {
  title: string;
  colour: string;
  dashed?: boolean;
  points: [number, number][];
}

export interface PointMark {
  x: number;
  y: number;
  title: string;
  colour: string;
}

interface Frame {
  x: (v: number) => number;
  y: (v: number) => number;
  svg: string[];
}

/** Lines with a dot on every point, so a one-epoch run still shows up. */
export function lineChart(o: { series: LineSeries[]; xLabel: string; yLabel: string; xTicks: Tick[]; yFormat: (v: number) => string }): string {
  const all = o.series.flatMap((s) => s.points);
  const frame = axes({ xs: [...all.map((p) => p[0]), ...o.xTicks.map((t) => t.at)], ys: all.map((p) => p[1]), ...o });
  for (const s of o.series) {
    const path = s.points.map(([x, y], i) => `${i ? 'L' : 'M'}${frame.x(x).toFixed(1)},${frame.y(y).toFixed(1)}`).join('');
    frame.svg.push(`<path d="${path}" fill="none" stroke="${s.colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}><title>${escapeHtml(s.title)}</title></path>`);
    for (const [x, y] of s.points) frame.svg.push(dot(frame, x, y, s.colour, `${s.title}: ${o.yFormat(y)} at ${x}`));
  }
  return close(frame, o.xLabel);
}

/** A metric against one swept parameter: every run as a dot, the mean per value joined by a line. */
export function sweepChart(o: { points: PointMark[]; means: [number, number][]; xTicks: Tick[]; xLabel: string; yLabel: string; yFormat: (v: number) => string }): string {
  const frame = axes({ xs: [...o.points.map((p) => p.x), ...o.xTicks.map((t) => t.at)], ys: o.points.map((p) => p.y), ...o });
  const path = o.means.map(([x, y], i) => `${i ? 'L' : 'M'}${frame.x(x).toFixed(1)},${frame.y(y).toFixed(1)}`).join('');
  frame.svg.push(`<path d="${path}" fill="none" stroke="#888" stroke-width="1.5"><title>mean</title></path>`);
  for (const p of o.points) frame.svg.push(dot(frame, p.x, p.y, p.colour, p.title, 0.75));
  return close(frame, o.xLabel);
}

/** A config's colour by how many of `rungCount` rungs it reached: pale for the first, deep blue for the top, so the halving shows. */
export function rungColour(rung: number, rungCount: number): string {
  return mix([190, 200, 212], [8, 60, 140], rungCount > 1 ? (rung - 1) / (rungCount - 1) : 1);
}

/** A config's line in the rungs chart: `paused` where ASHA stopped it with epochs left. */
export interface RungSeries extends LineSeries {
  paused: boolean;
}

/**
 * ASHA's rungs: each config's metric by epoch, a dashed rule at every rung epoch, and a mark where the config stopped,
 * hollow where ASHA stopped it with epochs left. Series are drawn in the order given, the last on top.
 */
export function rungChart(o: { series: RungSeries[]; rungs: number[]; xLabel: string; yLabel: string; yFormat: (v: number) => string }): string {
  const all = o.series.flatMap((s) => s.points);
  const xTicks = o.rungs.map((at) => ({ at, label: String(at) }));
  const frame = axes({ xs: [...all.map((p) => p[0]), ...o.rungs], ys: all.map((p) => p[1]), xTicks, yLabel: o.yLabel, yFormat: o.yFormat });
  o.rungs.forEach((epoch, k) => {
    const x = frame.x(epoch).toFixed(1);
    frame.svg.push(`<line class="rung-rule" x1="${x}" x2="${x}" y1="${MARGIN.top}" y2="${HEIGHT - MARGIN.bottom}" stroke="#999" stroke-dasharray="4 3"><title>rung ${k + 1}: epoch ${epoch}</title></line>`);
  });
  for (const s of o.series) {
    const path = s.points.map(([x, y], i) => `${i ? 'L' : 'M'}${frame.x(x).toFixed(1)},${frame.y(y).toFixed(1)}`).join('');
    frame.svg.push(`<path class="rung-curve" d="${path}" fill="none" stroke="${s.colour}" stroke-width="1.75"><title>${escapeHtml(s.title)}</title></path>`);
    const end = s.points[s.points.length - 1];
    if (!end) continue;
    const style = s.paused ? `fill="#fff" stroke="${s.colour}" stroke-width="2"` : `fill="${s.colour}" stroke="${s.colour}"`;
    const tip = `${s.title}: ${o.yFormat(end[1])} at epoch ${end[0]}${s.paused ? ', stopped by ASHA' : ''}`;
    frame.svg.push(`<circle class="rung-stop" cx="${frame.x(end[0]).toFixed(1)}" cy="${frame.y(end[1]).toFixed(1)}" r="4" ${style}><title>${escapeHtml(tip)}</title></circle>`);
  }
  return close(frame, o.xLabel);
}

/** Confusion matrix: counts in the cells, tinted by share of the true class (green on the diagonal, red off it). */
export function confusionHeatmap(matrix: number[][], labels: readonly string[]): string {
  const cell = 34;
  const left = 96;
  const top = 78;
  const size = cell * labels.length;
  const svg: string[] = [];
  matrix.forEach((row, r) => {
    const support = row.reduce((a, b) => a + b, 0);
    row.forEach((count, c) => {
      const rate = support ? count / support : 0;
      // Off-diagonal shares are small; tripling them makes a 10% confusion as visible as it matters.
      const fill = r === c ? mix([240, 246, 240], [26, 127, 55], rate) : mix([250, 246, 246], [198, 40, 40], Math.min(1, rate * 3));
      const dark = (r === c ? rate : rate * 3) > 0.55;
      const x = left + c * cell;
      const y = top + r * cell;
      const tip = `${labels[r]} → ${labels[c]}: ${count} (${(rate * 100).toFixed(1)}% of ${labels[r]})`;
      svg.push(`<rect x="${x}" y="${y}" width="${cell - 1}" height="${cell - 1}" fill="${fill}"><title>${escapeHtml(tip)}</title></rect>`);
      if (count) svg.push(`<text x="${x + cell / 2 - 0.5}" y="${y + cell / 2 + 4}" text-anchor="middle" font-size="11" fill="${dark ? '#fff' : '#222'}">${count}</text>`);
    });
  });
  labels.forEach((label, k) => {
    svg.push(`<text x="${left - 6}" y="${top + k * cell + cell / 2 + 4}" text-anchor="end" font-size="11">${escapeHtml(label)}</text>`);
    const cx = left + k * cell + cell / 2;
    svg.push(`<text transform="translate(${cx},${top - 6}) rotate(-45)" font-size="11">${escapeHtml(label)}</text>`);
  });
  // Room on the right for the last column's slanted label.
  const w = left + size + 64;
  const h = top + size + 8;
  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart heatmap" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img">${svg.join('')}</svg>`;
}

/** About `count` round tick values (1, 2 or 5 × 10^k apart) covering lo..hi. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function axes(o: { xs: number[]; ys: number[]; xTicks: Tick[]; yLabel: string; yFormat: (v: number) => string }): Frame {
  const [x0, x1] = padded(o.xs, 0.04);
  const [y0, y1] = padded(o.ys, 0.08);
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (v: number) => MARGIN.left + ((v - x0) / (x1 - x0)) * plotW;
  const y = (v: number) => MARGIN.top + plotH - ((v - y0) / (y1 - y0)) * plotH;
  const svg: string[] = [`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="#fcfcfd" stroke="#ddd"/>`];
  for (const t of niceTicks(y0, y1)) {
    svg.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#eee"/>`);
    svg.push(`<text x="${MARGIN.left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end" font-size="11">${escapeHtml(o.yFormat(t))}</text>`);
  }
  for (const t of o.xTicks) {
    svg.push(`<line x1="${x(t.at).toFixed(1)}" x2="${x(t.at).toFixed(1)}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH + 4}" stroke="#999"/>`);
    svg.push(`<text x="${x(t.at).toFixed(1)}" y="${MARGIN.top + plotH + 17}" text-anchor="middle" font-size="11">${escapeHtml(t.label)}</text>`);
  }
  svg.push(`<text transform="translate(14,${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="12">${escapeHtml(o.yLabel)}</text>`);
  return { x, y, svg };
}

function close(frame: Frame, xLabel: string): string {
  frame.svg.push(`<text x="${MARGIN.left + (WIDTH - MARGIN.left - MARGIN.right) / 2}" y="${HEIGHT - 8}" text-anchor="middle" font-size="12">${escapeHtml(xLabel)}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img">${frame.svg.join('')}</svg>`;
}

function dot(frame: Frame, x: number, y: number, colour: string, title: string, opacity = 1): string {
  return `<circle cx="${frame.x(x).toFixed(1)}" cy="${frame.y(y).toFixed(1)}" r="3.5" fill="${colour}" fill-opacity="${opacity}"><title>${escapeHtml(title)}</title></circle>`;
}

/** The data's range widened by a fraction on each side; a single value gets a range around it. */
function padded(values: number[], fraction: number): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (!finite.length) return [0, 1];
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  if (hi === lo) return [lo - (Math.abs(lo) * 0.05 || 0.5), hi + (Math.abs(hi) * 0.05 || 0.5)];
  const pad = (hi - lo) * fraction;
  return [lo - pad, hi + pad];
}

function mix(from: number[], to: number[], t: number): string {
  const k = Math.min(1, Math.max(0, t));
  return `rgb(${from.map((f, i) => Math.round(f + (to[i]! - f) * k)).join(',')})`;
}
