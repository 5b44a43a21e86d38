import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** Seconds of history each chart keeps. */
const WINDOW = 120;
const COLORS = ['#2563eb', '#16a34a', '#dc2626', '#9333ea', '#ea580c', '#0891b2'];

/** A live line chart (uPlot) of a few series over the last two minutes, one point per second. */
export class LiveChart {
  private readonly times: number[] = [];
  private readonly values: number[][];
  private readonly plot: uPlot;

  constructor(container: HTMLElement, series: readonly string[], format: (value: number) => string = String) {
    this.values = series.map(() => []);
    this.plot = new uPlot(
      {
        width: Math.max(container.clientWidth, 280),
        height: 180,
        legend: { live: false },
        cursor: { drag: { x: false, y: false } },
        scales: {
          // Always the last two minutes, so the axis does not jump while the first points come in.
          x: { time: true, range: (_u, _min, max) => [max - WINDOW, max] },
          y: { range: (_u, min, max) => [Math.min(0, min), Math.max(1, max * 1.1)] },
        },
        axes: [{}, { size: 60, values: (_u, ticks) => ticks.map(format) }],
        series: [{}, ...series.map((label, i) => ({ label, stroke: COLORS[i % COLORS.length], width: 2, points: { show: false } }))],
      },
      [this.times, ...this.values],
      container,
    );
    new ResizeObserver(() => this.plot.setSize({ width: Math.max(container.clientWidth, 280), height: 180 })).observe(container);
  }

  /** Add one point per series at `time` (ms) and drop points older than the window. */
  push(time: number, points: readonly number[]): void {
    this.times.push(time / 1000);
    points.forEach((value, i) => this.values[i]!.push(value));
    while (this.times.length > 0 && this.times[0]! < time / 1000 - WINDOW) {
      this.times.shift();
      for (const values of this.values) values.shift();
    }
    this.plot.setData([this.times, ...this.values]);
  }
}
