// Per-second rates for the sparklines, from cumulative counters sampled about once a second.

import type { Counters } from '../core/types';

/** The series the sparklines draw (loss is shown as counts, in the status bar). */
export type SeriesName = 'forks' | 'execs' | 'exits' | 'tracedForks' | 'tracedExecs' | 'tracedExits';
export const SERIES_NAMES: SeriesName[] = ['forks', 'execs', 'exits', 'tracedForks', 'tracedExecs', 'tracedExits'];

export class Rates {
  private readonly points = new Map<SeriesName, number[]>(SERIES_NAMES.map((name) => [name, []]));
  private last: Counters | null = null;
  private lastAt = 0;
  /** Grows with every point added: views redraw only when it moved. */
  version = 0;

  constructor(private readonly windowSec = 120) {}

  /** Adds one point per series: the counter's growth since the previous push, per second. */
  push(c: Counters, now: number): void {
    const prev = this.last;
    const elapsedSec = (now - this.lastAt) / 1000;
    if (prev && elapsedSec <= 0) return; // same instant again: nothing to divide by
    this.last = { ...c };
    this.lastAt = now;
    if (!prev) return; // the first sample is only the baseline
    this.version++;
    for (const [name, series] of this.points) {
      const delta = c[name] - prev[name];
      // A counter going backwards means the source restarted: its new value is the new baseline.
      series.push(delta < 0 ? 0 : delta / elapsedSec);
      if (series.length > this.windowSec) series.shift();
    }
  }

  /** Per-second values, oldest first, at most windowSec of them. */
  series(name: SeriesName): number[] {
    return [...this.points.get(name)!];
  }

  stats(name: SeriesName): { current: number; peak: number; avg: number } {
    const s = this.points.get(name)!;
    if (s.length === 0) return { current: 0, peak: 0, avg: 0 };
    let peak = 0;
    let sum = 0;
    for (const v of s) {
      peak = Math.max(peak, v);
      sum += v;
    }
    return { current: s[s.length - 1], peak, avg: sum / s.length };
  }
}
