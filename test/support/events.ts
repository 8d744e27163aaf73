// Builders for lifecycle events in unit tests: a process is named by (pid, start in
// seconds since boot) and every derived field (boot ns, epoch ms) follows from that.

import type { ExecEvent, ExitEvent, ForkEvent, KilledBy } from '../../src/core/types';
import { processKey } from '../../src/core/types';

/** Boot time of the imaginary machine: 2025-11-23T06:00:00Z. */
export const BOOT_MS = Date.UTC(2025, 10, 23, 6, 0, 0);

/** Boot ns with sub-tick digits, as the kernel reports them. */
export function startNs(startSec: number): number {
  return Math.round(startSec * 1e9) + 4321;
}

export function keyOf(pid: number, startSec: number): string {
  return processKey(pid, startNs(startSec));
}

/** Epoch ms of a moment given in seconds since boot. */
export function at(sec: number): number {
  return BOOT_MS + sec * 1000;
}

interface Common { ppid?: number; uid?: number; comm?: string; time?: number }

function header(pid: number, startSec: number, o: Common) {
  const start = startNs(startSec);
  return {
    time: o.time ?? at(startSec + 0.001), pid, ppid: o.ppid ?? 1, tid: pid, uid: o.uid ?? 1000,
    comm: o.comm ?? 'python3', start, startedAt: BOOT_MS + start / 1e6, cgroupId: '77',
  };
}

export function exec(
  pid: number,
  startSec: number,
  o: Common & { args?: string[]; filename?: string; seeded?: boolean; recovered?: boolean } = {},
): ExecEvent {
  const ev: ExecEvent = {
    type: 'exec', ...header(pid, startSec, o), filename: o.filename ?? '/usr/bin/python3.11',
    args: o.args ?? ['python3', 'app.py'], argsTruncated: false,
  };
  if (o.seeded) ev.seeded = true;
  if (o.recovered) ev.recovered = true;
  return ev;
}

export function exit(
  pid: number,
  startSec: number,
  o: Common & {
    code?: number; signal?: number; core?: boolean; endSec?: number; unknownStatus?: boolean;
    inferred?: 'zombie' | 'vanished'; seeded?: boolean; killedBy?: KilledBy; oomRssKb?: number;
  } = {},
): ExitEvent {
  const endSec = o.endSec ?? startSec + 1;
  const base = header(pid, startSec, { ...o, time: o.time ?? at(endSec) });
  const ev: ExitEvent = {
    type: 'exit', ...base, exitCode: o.code ?? 0, signal: o.signal ?? 0, coreDumped: o.core ?? false,
    durationMs: base.time - base.startedAt, cpuMs: 12,
  };
  if (o.unknownStatus) ev.unknownStatus = true;
  if (o.inferred) ev.inferred = o.inferred;
  if (o.seeded) ev.seeded = true;
  if (o.killedBy) ev.killedBy = o.killedBy;
  if (o.oomRssKb !== undefined) ev.oom = { rssKb: o.oomRssKb };
  return ev;
}

export function fork(pid: number, startSec: number, childPid: number, childStartSec: number, o: Common = {}): ForkEvent {
  return {
    type: 'fork', ...header(pid, startSec, { ...o, time: o.time ?? at(childStartSec) }),
    childPid, childStart: startNs(childStartSec),
  };
}
