// Sparklines pane: forks/execs/exits per second for all processes (left) and traced ones (right),
// over the rate window (60-120 s) squeezed into the cells available, with current and peak values.

import { formatCount } from '../core/format';
import { line, type Segment } from './text';
import type { Style, Theme } from './theme';

export type RateName = 'forks' | 'execs' | 'exits' | 'tracedForks' | 'tracedExecs' | 'tracedExits';

/** What the pane reads from the model's Rates. */
export interface RateSource {
  /** Grows when points are added (absent: always redraw). */
  readonly version?: number;
  series(name: RateName): number[];
  stats(name: RateName): { current: number; peak: number; avg: number };
}

const METRICS: ReadonlyArray<[string, RateName, RateName]> = [
  ['forks/s', 'forks', 'tracedForks'],
  ['execs/s', 'execs', 'tracedExecs'],
  ['exits/s', 'exits', 'tracedExits'],
];

/** Values (oldest first) squeezed into `cells` columns by maximum, so a one-second spike stays visible. */
export function bucket(values: readonly number[], cells: number): number[] {
  const n = values.length;
  if (n <= cells) return values.slice();
  const out: number[] = [];
  for (let i = 0; i < cells; i++) {
    const from = Math.floor((i * n) / cells);
    const to = Math.max(from + 1, Math.floor(((i + 1) * n) / cells));
    let m = 0;
    for (let j = from; j < to; j++) m = Math.max(m, values[j]);
    out.push(m);
  }
  return out;
}

/**
 * Values (oldest first) → exactly `cells` ramp characters, newest at the right. A longer series is
 * bucketed by maximum so short spikes stay visible; a shorter one is padded on the left.
 */
export function sparkline(values: readonly number[], cells: number, ramp: string): string {
  if (cells <= 0) return '';
  const points = bucket(values, cells);
  const max = points.reduce((a, b) => Math.max(a, b), 0);
  const top = ramp.length - 1;
  const chars = points.map((v) => (v > 0 && max > 0 ? ramp[Math.min(top, Math.max(1, Math.ceil((v / max) * top)))] : ramp[0]));
  return ramp[0].repeat(cells - chars.length) + chars.join('');
}

function half(label: string, name: RateName, rates: RateSource, width: number, style: Style, theme: Theme): Segment[] {
  const st = rates.stats(name);
  const nums = ` ${formatCount(st.current).padStart(5)} pk ${formatCount(st.peak).padStart(5)}`;
  const cells = Math.max(0, width - label.length - nums.length);
  return [{ text: label }, { text: sparkline(rates.series(name), cells, theme.glyphs.ramp), style }, { text: nums }];
}

export function renderSparks(rates: RateSource, width: number, height: number, theme: Theme): string {
  const left = Math.floor((width - 1) / 2);
  const right = width - left - 1;
  const out: string[] = [];
  for (const [label, all, traced] of METRICS.slice(0, Math.max(0, height))) {
    out.push(
      line(half(label.padEnd(8), all, rates, left, 'spark', theme), left, theme)
      + theme.glyphs.vline
      + line(half(' traced ', traced, rates, right, 'sparkTraced', theme), right, theme),
    );
  }
  return out.join('\n');
}
