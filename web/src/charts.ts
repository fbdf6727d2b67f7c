/**
 * Charts (uPlot): a time series of lines and a bar chart over labelled buckets. Each sizes
 * itself to its container and follows it when the page is resized. Chart values are floats:
 * they are drawn, never used to decide anything.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Chart<T> {
  update(data: T): void;
  destroy(): void;
}

export interface LineSeries {
  readonly label: string;
  readonly color: string;
}

const AXIS = { stroke: '#5b6675', grid: { stroke: 'rgba(120,130,145,0.18)', width: 1 }, ticks: { show: false }, font: '11px system-ui, sans-serif' };

function follow(container: HTMLElement, plot: uPlot, height: number): () => void {
  let width = container.clientWidth;
  const observer = new ResizeObserver(() => {
    const next = container.clientWidth;
    if (next === width || next === 0) return;
    width = next;
    requestAnimationFrame(() => plot.setSize({ width, height }));
  });
  observer.observe(container);
  return () => observer.disconnect();
}

/** Lines over time (x in seconds since the epoch). */
export function lineChart(
  container: HTMLElement,
  options: { series: readonly LineSeries[]; height: number; yFormat: (value: number) => string; stepped?: boolean },
): Chart<uPlot.AlignedData> {
  const stepped = uPlot.paths.stepped?.({ align: 1 });
  const plot = new uPlot(
    {
      width: Math.max(container.clientWidth, 200),
      height: options.height,
      legend: { show: options.series.length > 1, live: false },
      cursor: { drag: { x: false, y: false } },
      // At least a minute wide, so that a young series does not stretch over the whole chart.
      scales: { x: { time: true, range: (_plot, min, max) => [Math.min(min, max - 60), max] } },
      axes: [
        { ...AXIS },
        { ...AXIS, size: 64, values: (_plot, ticks) => ticks.map(options.yFormat) },
      ],
      series: [
        {},
        ...options.series.map((series) => ({
          label: series.label,
          stroke: series.color,
          width: 2,
          points: { show: false },
          value: (_plot: uPlot, value: number | null) => (value === null ? '—' : options.yFormat(value)),
          ...(options.stepped === true && stepped !== undefined && { paths: stepped }),
        })),
      ],
    },
    [[], ...options.series.map(() => [])],
    container,
  );
  const unfollow = follow(container, plot, options.height);
  return {
    update: (data) => plot.setData(data),
    destroy: () => {
      unfollow();
      plot.destroy();
    },
  };
}

/** Bars over labelled buckets. */
export function barChart(
  container: HTMLElement,
  options: { label: string; height: number; colors: (index: number) => string; labels: () => readonly string[] },
): Chart<readonly number[]> {
  const bars = uPlot.paths.bars?.({ size: [0.8, 64], gap: 2 });
  // One colour per bar: a horizontal gradient with hard stops at the buckets' edges.
  const paint = (plot: uPlot): CanvasGradient => {
    const count = Math.max(plot.data[0].length, 1);
    const gradient = plot.ctx.createLinearGradient(plot.bbox.left, 0, plot.bbox.left + plot.bbox.width, 0);
    for (let index = 0; index < count; index += 1) {
      gradient.addColorStop(index / count, options.colors(index));
      gradient.addColorStop(Math.max(index / count, (index + 1) / count - 1e-6), options.colors(index));
    }
    return gradient;
  };
  const plot = new uPlot(
    {
      width: Math.max(container.clientWidth, 200),
      height: options.height,
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      scales: { x: { time: false, range: (_plot, min, max) => [min - 0.5, max + 0.5] }, y: { range: (_plot, _min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: [
        {
          ...AXIS,
          splits: (plot) => (plot.data[0] as number[]).slice(),
          // Narrow charts label every n-th bar only, so that labels never overlap.
          values: (plot, ticks) => {
            const step = Math.max(1, Math.ceil((ticks.length * 64) / Math.max(plot.bbox.width / devicePixelRatio, 1)));
            return ticks.map((tick, index) => (index % step === 0 ? (options.labels()[tick] ?? '') : ''));
          },
          gap: 4,
        },
        { ...AXIS, size: 40, values: (_plot, ticks) => ticks.map((tick) => (Number.isInteger(tick) ? String(tick) : '')) },
      ],
      series: [
        {},
        {
          label: options.label,
          ...(bars !== undefined && { paths: bars }),
          points: { show: false },
          stroke: paint,
          fill: paint,
        },
      ],
    },
    [[], []],
    container,
  );
  const unfollow = follow(container, plot, options.height);
  return {
    update: (values) => plot.setData([values.map((_value, index) => index), [...values]]),
    destroy: () => {
      unfollow();
      plot.destroy();
    },
  };
}
