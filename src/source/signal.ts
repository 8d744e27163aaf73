// Signals to exact processes: a pidfd opened for the pid and checked against the start time the
// row knows, so a pid reused since the row was drawn is never hit (native/pidsignal.cc).
import { NS_PER_TICK } from '../core/types';
import { loadAddon } from './native';

/** "sent", or why not: "gone", "reused", "permission", "error: ...". `start` is boot ns (rows' start). */
export function signalProcess(pid: number, start: number, signal: number): string {
  return loadAddon().signalProcess(pid, Math.floor(start / NS_PER_TICK), signal);
}
