// Temperature and relative-humidity charts (uPlot, canvas) for the selected sensors: one line
// per sensor, overlaid on a shared time axis; with one sensor, the min–max of each bucket is a
// shaded band around the mean, so a downsampled year still shows the extremes.
import type { Band, Series } from './api.js';
import { toUnit, type TempUnit } from './units.js';
import uPlot from './vendor/uPlot.esm.js';

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];

type Values = Array<number | null>;

interface Quantity {
  title: string;
  unit: (u: TempUnit) => string;
  band: (s: Series) => Band;
  convert: (v: number, u: TempUnit) => number;
}

const QUANTITIES: Record<'temperature' | 'humidity', Quantity> = {
  temperature: { title: 'Temperature', unit: (u) => `°${u}`, band: (s) => s.temperatureF, convert: toUnit },
  humidity: { title: 'Relative humidity', unit: () => '%', band: (s) => s.relHumidityPercent, convert: (v) => v },
};

/** One chart; rebuilt when its series change, otherwise just given new data. */
class Chart {
  private plot: uPlot | undefined;
  private shape = '';

  constructor(
    private readonly container: HTMLElement,
    private readonly q: Quantity,
  ) {}

  show(series: readonly Series[], unit: TempUnit, fromMs: number, toMs: number): void {
    const single = series.length === 1;
    const data = this.aligned(series, unit, single);
    const shape = `${unit}|${single}|${series.map((s) => s.name).join('\u0000')}`;
    const points = series.reduce((n, s) => n + s.t.length, 0);
    this.container.dataset['points'] = String(points);
    this.container.dataset['sensors'] = String(series.length);
    // The canvas says nothing to a screen reader: the container does.
    this.container.setAttribute('role', 'figure');
    this.container.setAttribute(
      'aria-label',
      `${this.q.title} in ${this.q.unit(unit)} of ${series.map((s) => s.name).join(', ') || 'no sensor'}, ${new Date(fromMs).toLocaleString()} to ${new Date(toMs).toLocaleString()}`,
    );
    if (this.plot && shape === this.shape) {
      this.plot.setData(data, false);
      this.plot.setScale('x', { min: fromMs / 1000, max: toMs / 1000 });
      return;
    }
    this.plot?.destroy();
    this.shape = shape;
    this.plot = new uPlot(this.options(series, unit, single, fromMs, toMs), data, this.container);
  }

  resize(): void {
    this.plot?.setSize(this.size());
  }

  private size(): { width: number; height: number } {
    const width = Math.max(260, this.container.clientWidth);
    return { width, height: Math.round(Math.min(320, Math.max(180, width * 0.45))) };
  }

  private aligned(series: readonly Series[], unit: TempUnit, single: boolean): uPlot.AlignedData {
    const conv = (vs: Values): Values => vs.map((v) => (v === null ? null : this.q.convert(v, unit)));
    const tables: uPlot.AlignedData[] = series.map((s) => {
      const b = this.q.band(s);
      return single ? [s.t, conv(b.mean), conv(b.min), conv(b.max)] : [s.t, conv(b.mean)];
    });
    if (tables.length === 0) return [[]];
    return tables.length === 1 ? tables[0]! : uPlot.join(tables);
  }

  private options(series: readonly Series[], unit: TempUnit, single: boolean, fromMs: number, toMs: number): uPlot.Options {
    const label = `${this.q.title} (${this.q.unit(unit)})`;
    const lines: uPlot.Series[] = series.map((s, i) => ({
      label: s.name,
      stroke: COLOURS[i % COLOURS.length]!,
      width: 1.5,
      spanGaps: false,
      value: (_u, v) => (v === null || v === undefined ? '–' : `${v.toFixed(1)} ${this.q.unit(unit)}`),
    }));
    const extra: uPlot.Series[] = single
      ? [
          { label: 'min', stroke: 'transparent', width: 0, points: { show: false } },
          { label: 'max', stroke: 'transparent', width: 0, points: { show: false } },
        ]
      : [];
    const container = this.container;
    return {
      ...this.size(),
      title: label,
      scales: { x: { time: true, min: fromMs / 1000, max: toMs / 1000 }, y: { auto: true } },
      series: [{}, ...lines, ...extra],
      bands: single ? [{ series: [3, 2], fill: 'rgba(31,119,180,0.15)' }] : [],
      axes: [{}, { label: this.q.unit(unit), size: 56 }],
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      hooks: {
        draw: [
          () => {
            container.dataset['drawn'] = String(Number(container.dataset['drawn'] ?? 0) + 1);
            if (!performance.getEntriesByName('chart-drawn').length) performance.mark('chart-drawn');
          },
        ],
      },
    };
  }
}

export class Charts {
  private readonly temperature: Chart;
  private readonly humidity: Chart;

  constructor(temperature: HTMLElement, humidity: HTMLElement) {
    this.temperature = new Chart(temperature, QUANTITIES.temperature);
    this.humidity = new Chart(humidity, QUANTITIES.humidity);
    // Only a change of width re-lays the charts (their own height changes would loop).
    let width = temperature.clientWidth;
    new ResizeObserver(() => {
      if (temperature.clientWidth === width) return;
      width = temperature.clientWidth;
      this.temperature.resize();
      this.humidity.resize();
    }).observe(temperature);
  }

  show(series: readonly Series[], unit: TempUnit, fromMs: number, toMs: number): void {
    this.temperature.show(series, unit, fromMs, toMs);
    this.humidity.show(series, unit, fromMs, toMs);
  }
}
