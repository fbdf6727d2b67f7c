/**
 * Small SVG charts for the reports: lines over time, bars over time, grouped bars. Output is
 * a self-contained <svg> string (no script, no external reference), deterministic for the
 * same input. Floats: charts only.
 */

export interface Series {
  readonly label: string;
  readonly color: string;
  /** y per x index; NaN leaves a gap. */
  readonly values: readonly number[];
  readonly dashed?: boolean;
}

export interface ChartFrame {
  readonly title: string;
  readonly width?: number;
  readonly height?: number;
  /** Labels under the x axis: first, middle and last are shown. */
  readonly xLabels: readonly string[];
  readonly yFormat?: (value: number) => string;
}

const PAD = { left: 78, right: 16, top: 30, bottom: 42 } as const;
export const PALETTE = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563'] as const;

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Compact number for axes: 1.2M, 35k, 0.87. */
export function compact(value: number): string {
  const magnitude = Math.abs(value);
  if (magnitude >= 1e9) return `${trim(value / 1e9)}B`;
  if (magnitude >= 1e6) return `${trim(value / 1e6)}M`;
  if (magnitude >= 1e4) return `${trim(value / 1e3)}k`;
  if (magnitude >= 100) return value.toFixed(0);
  if (magnitude >= 1) return trim(value);
  if (magnitude === 0) return '0';
  return String(Number(value.toPrecision(3)));
}

function trim(value: number): string {
  return value.toFixed(2).replace(/\.?0+$/, '');
}

interface Box {
  readonly width: number;
  readonly height: number;
  readonly innerWidth: number;
  readonly innerHeight: number;
}

function box(frame: ChartFrame): Box {
  const width = frame.width ?? 640;
  const height = frame.height ?? 240;
  return { width, height, innerWidth: width - PAD.left - PAD.right, innerHeight: height - PAD.top - PAD.bottom };
}

function range(values: readonly number[], includeZero: boolean): [number, number] {
  let lo = includeZero ? 0 : Number.POSITIVE_INFINITY;
  let hi = includeZero ? 0 : Number.NEGATIVE_INFINITY;
  for (const value of values) {
    if (!Number.isFinite(value)) continue;
    if (value < lo) lo = value;
    if (value > hi) hi = value;
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (lo === hi) return lo === 0 ? [0, 1] : [lo * 0.95, hi * 1.05];
  const margin = (hi - lo) * 0.05;
  return [includeZero && lo >= 0 ? lo : lo - margin, hi + margin];
}

function frameSvg(frame: ChartFrame, b: Box, yLo: number, yHi: number, body: string, legend: readonly Series[]): string {
  const format = frame.yFormat ?? compact;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((share) => {
    const value = yLo + (yHi - yLo) * share;
    const y = PAD.top + b.innerHeight * (1 - share);
    return (
      `<line x1="${PAD.left}" x2="${PAD.left + b.innerWidth}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" class="grid"/>` +
      `<text x="${PAD.left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" class="tick">${escapeXml(format(value))}</text>`
    );
  });
  const count = frame.xLabels.length;
  const xTicks = count === 0 ? [] : [...new Set([0, Math.floor((count - 1) / 2), count - 1])];
  const xText = xTicks.map((index, position) => {
    const x = PAD.left + (count <= 1 ? 0 : (b.innerWidth * index) / (count - 1));
    const anchor = position === 0 ? 'start' : position === xTicks.length - 1 ? 'end' : 'middle';
    return `<text x="${x.toFixed(1)}" y="${PAD.top + b.innerHeight + 18}" text-anchor="${anchor}" class="tick">${escapeXml(frame.xLabels[index] ?? '')}</text>`;
  });
  let legendX = PAD.left;
  const legendItems = legend.map((series) => {
    const item =
      `<rect x="${legendX}" y="${PAD.top + b.innerHeight + 28}" width="10" height="10" fill="${series.color}"/>` +
      `<text x="${legendX + 14}" y="${PAD.top + b.innerHeight + 37}" class="legend">${escapeXml(series.label)}</text>`;
    legendX += 24 + series.label.length * 6.5;
    return item;
  });
  return (
    `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${b.width} ${b.height}" width="${b.width}" height="${b.height}" role="img" aria-label="${escapeXml(frame.title)}">` +
    `<title>${escapeXml(frame.title)}</title>` +
    `<text x="${PAD.left}" y="18" class="title">${escapeXml(frame.title)}</text>` +
    ticks.join('') +
    `<line x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${PAD.top + b.innerHeight}" class="axis"/>` +
    `<line x1="${PAD.left}" x2="${PAD.left + b.innerWidth}" y1="${PAD.top + b.innerHeight}" y2="${PAD.top + b.innerHeight}" class="axis"/>` +
    body +
    xText.join('') +
    legendItems.join('') +
    '</svg>'
  );
}

export function lineChart(
  frame: ChartFrame,
  series: readonly Series[],
  options: { includeZero?: boolean; logWhenRatioAbove?: number } = {},
): string {
  const b = box(frame);
  const all = series.flatMap((s) => s.values).filter((value) => Number.isFinite(value));
  const positive = all.length > 0 && all.every((value) => value > 0);
  const spread = positive ? Math.max(...all) / Math.min(...all) : 1;
  // A price that falls a thousandfold (LUNA) is unreadable on a linear axis.
  const log = options.logWhenRatioAbove !== undefined && positive && spread > options.logWhenRatioAbove;
  const scale = (value: number): number => (log ? Math.log10(value) : value);
  const [lo, hi] = range(all.map(scale), options.includeZero === true && !log);
  const count = Math.max(...series.map((s) => s.values.length), 1);
  const x = (index: number): number => PAD.left + (count <= 1 ? b.innerWidth / 2 : (b.innerWidth * index) / (count - 1));
  const y = (value: number): number => PAD.top + b.innerHeight * (1 - (scale(value) - lo) / (hi - lo));
  const paths = series.map((s) => {
    let d = '';
    let pen = false;
    s.values.forEach((value, index) => {
      if (!Number.isFinite(value) || (log && value <= 0)) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${x(index).toFixed(1)},${y(value).toFixed(1)}`;
      pen = true;
    });
    if (d === '') return '';
    return `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.8"${s.dashed === true ? ' stroke-dasharray="5 4"' : ''}><title>${escapeXml(s.label)}</title></path>`;
  });
  const format = frame.yFormat ?? compact;
  const titled = log ? { ...frame, title: `${frame.title}, log scale`, yFormat: (value: number) => format(10 ** value) } : frame;
  return frameSvg(titled, b, lo, hi, paths.join(''), series);
}

/** Bars over time (one series) with an optional line on the same axis. */
export function barChart(frame: ChartFrame, bars: Series, line?: Series): string {
  const b = box(frame);
  const [lo, hi] = range([...bars.values, ...(line?.values ?? [])], true);
  const count = Math.max(bars.values.length, 1);
  const slot = b.innerWidth / count;
  const y = (value: number): number => PAD.top + b.innerHeight * (1 - (value - lo) / (hi - lo));
  const rects = bars.values.map((value, index) => {
    if (!Number.isFinite(value) || value === 0) return '';
    const top = y(value);
    const height = y(lo) - top;
    return `<rect x="${(PAD.left + slot * index).toFixed(1)}" y="${top.toFixed(1)}" width="${Math.max(slot * 0.8, 0.8).toFixed(2)}" height="${height.toFixed(1)}" fill="${bars.color}"><title>${escapeXml(`${frame.xLabels[index] ?? index}: ${value}`)}</title></rect>`;
  });
  let path = '';
  if (line !== undefined) {
    const d = line.values
      .map((value, index) => `${index === 0 ? 'M' : 'L'}${(PAD.left + slot * (index + 0.4)).toFixed(1)},${y(Number.isFinite(value) ? value : 0).toFixed(1)}`)
      .join('');
    path = `<path d="${d}" fill="none" stroke="${line.color}" stroke-width="1.5"><title>${escapeXml(line.label)}</title></path>`;
  }
  return frameSvg(frame, b, lo, hi, rects.join('') + path, line === undefined ? [bars] : [bars, line]);
}

/** Grouped bars: one group per category, one bar per series. */
export function groupedBarChart(frame: ChartFrame, categories: readonly string[], series: readonly Series[]): string {
  const b = box({ ...frame, xLabels: [] });
  const [lo, hi] = range(series.flatMap((s) => s.values), true);
  const group = b.innerWidth / Math.max(categories.length, 1);
  const barWidth = (group * 0.8) / Math.max(series.length, 1);
  const y = (value: number): number => PAD.top + b.innerHeight * (1 - (value - lo) / (hi - lo));
  let body = '';
  categories.forEach((category, c) => {
    series.forEach((s, k) => {
      const value = s.values[c] ?? 0;
      const top = y(value);
      body += `<rect x="${(PAD.left + group * c + group * 0.1 + barWidth * k).toFixed(1)}" y="${top.toFixed(1)}" width="${barWidth.toFixed(2)}" height="${(y(lo) - top).toFixed(1)}" fill="${s.color}"><title>${escapeXml(`${s.label}, ${category}: ${value}`)}</title></rect>`;
    });
    body += `<text x="${(PAD.left + group * (c + 0.5)).toFixed(1)}" y="${PAD.top + b.innerHeight + 16}" text-anchor="middle" class="tick">${escapeXml(category)}</text>`;
  });
  return frameSvg({ ...frame, xLabels: [] }, b, lo, hi, body, series);
}

/** Points (x, y) on a numeric x axis, one or more series: used by the sweep chart. */
export function xyChart(
  frame: Omit<ChartFrame, 'xLabels'> & { readonly xValues: readonly number[]; readonly xFormat?: (value: number) => string },
  series: readonly Series[],
): string {
  const b = box({ ...frame, xLabels: [] });
  const [lo, hi] = range(series.flatMap((s) => s.values), true);
  const [xLo, xHi] = frame.xValues.length > 1 ? [Math.min(...frame.xValues), Math.max(...frame.xValues)] : [0, 1];
  const x = (value: number): number => PAD.left + (xHi === xLo ? b.innerWidth / 2 : (b.innerWidth * (value - xLo)) / (xHi - xLo));
  const y = (value: number): number => PAD.top + b.innerHeight * (1 - (value - lo) / (hi - lo));
  const format = frame.xFormat ?? compact;
  let body = '';
  for (const s of series) {
    const points = s.values.map((value, index) => [x(frame.xValues[index] ?? 0), y(Number.isFinite(value) ? value : 0)] as const);
    body += `<path d="${points.map(([px, py], i) => `${i === 0 ? 'M' : 'L'}${px.toFixed(1)},${py.toFixed(1)}`).join('')}" fill="none" stroke="${s.color}" stroke-width="1.8"/>`;
    body += points
      .map(([px, py], i) => `<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="3" fill="${s.color}"><title>${escapeXml(`${s.label} at ${format(frame.xValues[i] ?? 0)}: ${compact(s.values[i] ?? 0)}`)}</title></circle>`)
      .join('');
  }
  body += frame.xValues
    .map((value) => `<text x="${x(value).toFixed(1)}" y="${PAD.top + b.innerHeight + 16}" text-anchor="middle" class="tick">${escapeXml(format(value))}</text>`)
    .join('');
  return frameSvg({ ...frame, xLabels: [] }, b, lo, hi, body, series);
}

/** Styles the charts use (inlined once per page). */
export const CHART_CSS = `
svg.chart { background: #fff; border: 1px solid #e5e7eb; border-radius: 6px; max-width: 100%; height: auto; }
svg.chart .grid { stroke: #f1f5f9; }
svg.chart .axis { stroke: #94a3b8; }
svg.chart .tick { font: 11px system-ui, sans-serif; fill: #475569; }
svg.chart .legend { font: 11px system-ui, sans-serif; fill: #334155; }
svg.chart .title { font: 600 13px system-ui, sans-serif; fill: #0f172a; }
`;
