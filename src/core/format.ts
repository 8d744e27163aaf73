// Short human formats shared by the panes: ages, sizes, rates, exit status.
// Pure; output is plain ASCII so column widths stay predictable.

import type { ProcessRow } from './types';

// Only date-fns' format module (its index costs ~150 ms to load), and only when a date is first
// formatted: the time of day every frame shows is worked out here, and the module's ~9 ms are not
// spent before the first frame.
let dateFormat: typeof import('date-fns/format').format | undefined;

/** date-fns format (its patterns), loaded on first use. */
export function formatDate(ms: number, pattern: string): string {
  dateFormat ??= (require('date-fns/format') as typeof import('date-fns/format')).format;
  return dateFormat(ms, pattern);
}

// The STATE column's exit status is the exit-reason vocabulary's short form.
export { signalName, stateText } from './exitReason';

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** Compact age: 42s, 5m07s, 3h02m, 2d04h. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${pad2(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${pad2(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86400)}d${pad2(Math.floor(s / 3600) % 24)}h`;
}

/** Lifetimes in the event log: 850ms, 1.2s, then like formatAge. */
export function formatLifetime(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return formatAge(ms);
}

export function formatKb(kb: number | null): string {
  if (kb === null) return '-';
  if (kb < 10_000) return `${Math.round(kb)}K`;
  if (kb < 10_000 * 1024) return `${Math.round(kb / 1024)}M`;
  return `${(kb / 1024 / 1024).toFixed(1)}G`;
}

export function formatCpu(pct: number | null): string {
  return pct === null ? '-' : pct.toFixed(1);
}

/** Event rates and counts: 7, 950, 1.2k, 3.4M. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '-';
  const a = Math.abs(n);
  if (a < 10 && !Number.isInteger(n)) return n.toFixed(1);
  if (a < 1000) return String(Math.round(n));
  if (a < 1e6) return `${(n / 1e3).toFixed(1)}k`;
  return `${(n / 1e6).toFixed(1)}M`;
}

/** Age of a row: how long it has run, or how long it lived once it exited. */
export function rowAgeMs(row: ProcessRow, now: number): number {
  if (row.state === 'running') return now - row.startedAt;
  if (row.lifetimeMs !== null) return row.lifetimeMs;
  return (row.exitedAt ?? now) - row.startedAt;
}

/**
 * The local HH:mm:ss of the last few seconds asked for: every frame shows the same few (the log's
 * lines, the table's STARTED column), and formatting them was most of a frame's text work.
 */
const seconds = new Map<number, string>();

/** Local time of an epoch-ms value; '-' for a bad value (date-fns throws on NaN). */
export function clockText(ms: number, pattern = 'HH:mm:ss'): string {
  if (!Number.isFinite(ms)) return '-';
  if (pattern !== 'HH:mm:ss' && pattern !== 'HH:mm:ss.SSS') return formatDate(ms, pattern);
  const whole = Math.trunc(ms); // as Date does
  const second = Math.floor(whole / 1000);
  let hms = seconds.get(second);
  if (hms === undefined) {
    if (seconds.size >= 256) seconds.clear();
    const d = new Date(second * 1000);
    hms = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
    seconds.set(second, hms);
  }
  if (pattern === 'HH:mm:ss') return hms;
  const milli = whole - second * 1000;
  return hms + (milli < 10 ? '.00' : milli < 100 ? '.0' : '.') + milli;
}
