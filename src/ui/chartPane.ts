// The `g` view: forks, execs and exits per second over the last 10 minutes, for all processes and for
// traced ones, as two line charts with axes and a legend. In colour, blessed-contrib's line chart draws
// them (braille dots); with --ascii or --no-color, plain text draws them, one letter per series.

import * as widgets from './widgets';
import type { Widgets } from 'blessed';
import { formatCount } from '../core/format';
import { bucket, type RateName, type RateSource } from './sparklines';
import { line, type Segment } from './text';
import type { Theme } from './theme';
import type { Rect } from './layout';

/** Seconds of history the chart shows. */
export const CHART_WINDOW_SEC = 600;

interface ChartSeries {
  title: string;
  name: RateName;
  /** blessed-contrib colour (colour mode) and the letter plotted in text mode. */
  color: string;
  mark: string;
}

const PANELS: ReadonlyArray<{ title: string; series: ChartSeries[] }> = [
  {
    title: 'all processes',
    series: [
      { title: 'forks/s', name: 'forks', color: 'cyan', mark: 'f' },
      { title: 'execs/s', name: 'execs', color: 'green', mark: 'e' },
      { title: 'exits/s', name: 'exits', color: 'magenta', mark: 'x' },
    ],
  },
  {
    title: 'traced',
    series: [
      { title: 'forks/s', name: 'tracedForks', color: 'cyan', mark: 'f' },
      { title: 'execs/s', name: 'tracedExecs', color: 'green', mark: 'e' },
      { title: 'exits/s', name: 'tracedExits', color: 'magenta', mark: 'x' },
    ],
  },
];

/** "-m:ss" before now for the point i of n (one a second, the last is now). */
export function ageLabel(i: number, n: number): string {
  const ago = n - 1 - i;
  if (ago === 0) return 'now';
  return `-${Math.floor(ago / 60)}:${String(ago % 60).padStart(2, '0')}`;
}

/**
 * One panel as text, exactly width x height: a title line with the legend, the plot with a y axis
 * (0 to the peak), an x axis, and its age labels. A cell two series share shows '#'.
 */
export function textPanel(
  title: string, series: readonly { title: string; mark: string; values: readonly number[] }[], width: number, height: number, theme: Theme,
): string {
  const n = Math.max(0, ...series.map((s) => s.values.length));
  const peak = Math.max(0, ...series.flatMap((s) => s.values));
  const top = formatCount(peak);
  const axisW = Math.max(top.length, 1) + 1;
  const plotW = Math.max(1, width - axisW - 1);
  const plotH = Math.max(1, height - 3);
  const grid: string[][] = Array.from({ length: plotH }, () => Array<string>(plotW).fill(' '));
  for (const s of series) {
    const pts = bucket(s.values, plotW);
    const offset = plotW - pts.length; // newest at the right, like the sparklines
    pts.forEach((v, i) => {
      if (peak <= 0) return;
      const row = plotH - 1 - Math.round((v / peak) * (plotH - 1));
      const cell = grid[row][offset + i];
      grid[row][offset + i] = cell === ' ' ? s.mark : cell === s.mark ? cell : '#';
    });
  }
  const legend = series.map((s) => `${s.mark}=${s.title}`).join(' ');
  const head: Segment[] = [{ text: ` ${title} `, style: 'title' }, { text: ` ${legend}  peak ${top}/s` }];
  const out = [line(head, width, theme)];
  const g = theme.glyphs;
  for (let r = 0; r < plotH; r++) {
    const label = r === 0 ? top : r === plotH - 1 ? '0' : '';
    out.push(line([{ text: label.padStart(axisW - 1) + ' ' + g.vline }, { text: grid[r].join(''), style: 'spark' }], width, theme));
  }
  out.push(line([{ text: ' '.repeat(axisW) + g.corners[2] + g.hline.repeat(plotW) }], width, theme));
  // The left end of the x axis: one column a second until the window is wider than the history.
  const labels = n === 0 ? 'collecting: one point a second' : ageLabel(0, Math.max(n, plotW));
  out.push(line([{ text: ' '.repeat(axisW + 1) + labels.padEnd(Math.max(0, plotW - 3)) + 'now' }], width, theme));
  return out.slice(0, height).join('\n');
}

/** blessed-contrib's line chart, typed for what we use. */
interface ContribLine extends Widgets.BoxElement {
  options: { maxY?: number };
  setData(data: { title: string; x: string[]; y: number[]; style: { line: string } }[]): void;
}

type LineFactory = (opts: Record<string, unknown>) => ContribLine;

let lineFactory: LineFactory | undefined;

/** Only the line widget is loaded, on first use: the whole package costs start-up time. */
function contribLine(): LineFactory {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  lineFactory ??= require('blessed-contrib/lib/widget/charts/line') as LineFactory;
  return lineFactory;
}

/** The chart view: two panels stacked in `rect`, drawn as contrib widgets or as text boxes. */
export class ChartView {
  private readonly boxes: Widgets.BoxElement[] = [];
  private charts: ContribLine[] = [];
  private rect: Rect | null = null;
  /** The rates version and size the contrib charts were last given (their data is costly to set). */
  private drawnFor = '';

  constructor(private readonly screen: Widgets.Screen, private readonly theme: Theme) {}

  /** Text for --ascii and --no-color; braille and colour otherwise. */
  private get drawn(): boolean {
    return this.theme.color && !this.theme.ascii;
  }

  place(rect: Rect): void {
    this.rect = rect;
    const half = Math.floor(rect.height / 2);
    const parts = [{ top: rect.top, height: half }, { top: rect.top + half, height: rect.height - half }];
    if (this.drawn) {
      if (this.charts.length === 0) this.charts = PANELS.map((p) => this.makeChart(p.title));
      this.charts.forEach((c, i) => this.resize(c, rect.left, parts[i].top, rect.width, parts[i].height));
    } else {
      if (this.boxes.length === 0) {
        for (let i = 0; i < PANELS.length; i++) this.boxes.push(widgets.box({ parent: this.screen, tags: true, wrap: false }));
      }
      this.boxes.forEach((b, i) => Object.assign(b, { top: parts[i].top, left: rect.left, width: rect.width, height: parts[i].height }));
    }
  }

  private makeChart(title: string): ContribLine {
    const chart = contribLine()({
      parent: this.screen, label: ` ${title} `, showLegend: true, legend: { width: 12 }, wholeNumbersOnly: false,
      abbreviate: true, style: { line: 'cyan', text: 'white', baseline: 'white' }, border: { type: 'line' },
      xLabelPadding: 3, xPadding: 5, numYLabels: 4, top: 0, left: 0, width: 10, height: 10,
    });
    return chart;
  }

  /** contrib sizes its canvas once, when attached: a new size needs a new canvas. */
  private resize(chart: ContribLine, left: number, top: number, width: number, height: number): void {
    Object.assign(chart, { left, top, width, height });
    chart.emit('attach');
  }

  show(rates: RateSource): void {
    if (!this.rect) return;
    const key = `${rates.version ?? Math.random()}:${this.rect.width}x${this.rect.height}`;
    const fresh = key !== this.drawnFor;
    this.drawnFor = key;
    PANELS.forEach((panel, i) => {
      if (this.drawn) {
        const chart = this.charts[i];
        if (fresh) this.setData(chart, panel.series, rates);
        chart.show();
        chart.setFront();
      } else {
        const box = this.boxes[i];
        const series = panel.series.map((s) => ({ title: s.title, mark: s.mark, values: rates.series(s.name) }));
        box.setContent(textPanel(panel.title, series, box.width as number, box.height as number, this.theme));
        box.show();
        box.setFront();
      }
    });
  }

  /**
   * contrib draws every point it is given: more points than the canvas has dots only cost time
   * (40 ms a frame at 600), so the history is bucketed by maximum to the canvas width first.
   */
  private setData(chart: ContribLine, series: readonly ChartSeries[], rates: RateSource): void {
    const n = Math.max(...series.map((s) => rates.series(s.name).length));
    if (n < 2) return;
    // contrib scales to the data's maximum: an idle series (all 0) would divide by zero.
    const peak = Math.max(0, ...series.flatMap((s) => rates.series(s.name)));
    chart.options.maxY = peak > 0 ? undefined : 1;
    const dots = Math.max(2, ((chart.width as number) * 2 - 12) - 10);
    const cells = Math.min(n, dots);
    const x = Array.from({ length: cells }, (_, k) => ageLabel(Math.floor((k * (n - 1)) / Math.max(1, cells - 1)), n));
    chart.setData(series.map((s) => ({ title: s.title, x, y: bucket(padLeft(rates.series(s.name), n), cells), style: { line: s.color } })));
  }

  hide(): void {
    for (const c of this.charts) c.hide();
    for (const b of this.boxes) b.hide();
  }
}

function padLeft(values: number[], n: number): number[] {
  return values.length >= n ? values : [...Array<number>(n - values.length).fill(0), ...values];
}
