// What /proc says lifetop should know: the processes a filter traces (seeding at start, recovery
// after a loss), and exits the kernel did not report (zombies' status, vanished processes).

import { unitOf } from '../core/cgroup';
import { matchComm } from '../core/filter';
import { ExecEvent, ExitEvent, FilterSpec, LifecycleEvent, processKey } from '../core/types';
import { effectiveCaps, hasCap, infoFromStat, isDead, ProcInfo, ProcStat, readStat, scanStats, statKey, TICKS_PER_SEC } from './procfs';

/** Which of `procs` the filter traces: comm matches, plus (followChildren) all their descendants. */
export function tracedSet<T extends { pid: number; ppid: number; comm: string }>(procs: T[], filter: FilterSpec): T[] {
  const pids = new Set(filter.pids ?? []);
  const traced = new Set(procs.filter((p) => pids.has(p.pid) || matchComm(filter.patterns, p.comm)));
  if (filter.followChildren) {
    const children = new Map<number, T[]>();
    for (const p of procs) {
      if (p.pid === p.ppid) continue;
      const list = children.get(p.ppid);
      if (list) list.push(p);
      else children.set(p.ppid, [p]);
    }
    // Breadth-first with a cursor: linear even under "*" (pid 1 and kthreadd have hundreds of children).
    const queue = [...traced];
    for (let i = 0; i < queue.length; i++) {
      for (const child of children.get(queue[i].pid) ?? []) {
        if (!traced.has(child)) {
          traced.add(child);
          queue.push(child);
        }
      }
    }
  }
  return procs.filter((p) => traced.has(p));
}

/**
 * Seed events for what the filter traces in /proc now: an exec for each, and for a process
 * that is already dead (an unreaped zombie) its exit as /proc tells it. Filters on the stat
 * files first and reads status, cmdline and exe only for the matches: it runs at start-up
 * and on every filter change, on the UI's thread.
 */
export function seedFromProc(filter: FilterSpec, now: number): LifecycleEvent[] {
  const infos: ProcInfo[] = [];
  const dead = new Map<string, ProcStat>();
  for (const stat of tracedSet(scanStats(), filter)) {
    const info = infoFromStat(stat);
    if (!info) continue;
    infos.push(info);
    if (isDead(stat)) dead.set(statKey(stat), stat);
  }
  const out: LifecycleEvent[] = [];
  for (const ev of seedEvents(infos, filter, now)) {
    out.push(ev);
    const stat = dead.get(processKey(ev.pid, ev.start));
    if (stat) out.push({ ...inferredExit(ev, stat, now), seeded: true });
  }
  return out;
}

/**
 * Processes the filter traces that run now (not zombies) and are missing from `known`:
 * what a loss of events hid. Exec events flagged recovered, parents first.
 */
export function recoverFromProc(filter: FilterSpec, known: (key: string) => boolean, now: number): ExecEvent[] {
  const out: ExecEvent[] = [];
  const stats = scanStats().filter((st) => !isDead(st));
  for (const stat of tracedSet(stats, filter).sort((a, b) => a.startTicks - b.startTicks)) {
    if (known(statKey(stat))) continue;
    const info = infoFromStat(stat);
    if (info) out.push({ ...execFromInfo(info, now), recovered: true });
  }
  return out;
}

/** How a process known by key stands in /proc now: alive, dead (a zombie, with its stat), or gone. */
export function lookup(pid: number, key: string): { state: 'alive' | 'dead' | 'gone'; stat: ProcStat | null } {
  const stat = readStat(pid);
  if (!stat || statKey(stat) !== key) return { state: 'gone', stat: null };
  return { state: isDead(stat) ? 'dead' : 'alive', stat };
}

/**
 * The exit of a process the kernel did not report: from a zombie's stat (status in wait(2)
 * form, field 52), or, when it is gone, 'vanished' with the status unknown.
 */
export function inferredExit(
  p: { pid: number; ppid: number; uid: number; comm: string; start: number; startedAt: number; cgroupId: string },
  stat: ProcStat | null, now: number,
): ExitEvent {
  const status = stat?.exitStatus ?? null;
  const zombie = stat !== null && status !== null && canReadStatus(p.uid);
  return {
    type: 'exit', time: now, pid: p.pid, ppid: stat?.ppid ?? p.ppid, tid: p.pid, uid: p.uid, comm: stat?.comm ?? p.comm,
    start: p.start, startedAt: p.startedAt, cgroupId: p.cgroupId,
    exitCode: zombie ? (status >> 8) & 0xff : 0, signal: zombie ? status & 0x7f : 0, coreDumped: zombie && (status & 0x80) !== 0,
    durationMs: Math.max(0, now - p.startedAt),
    cpuMs: stat ? ((stat.utimeTicks + stat.stimeTicks) * 1000) / TICKS_PER_SEC : 0,
    inferred: stat !== null ? 'zombie' : 'vanished',
    ...(stat !== null && !zombie ? { unknownStatus: true } : {}),
  };
}

/**
 * The kernel shows field 52 only to who may ptrace the process (same user, or CAP_SYS_PTRACE: root,
 * or a service given only the capabilities it needs); others read 0.
 */
function canReadStatus(uid: number): boolean {
  return (process.geteuid?.() ?? 0) === uid || mayPtrace();
}

const CAP_SYS_PTRACE = 19;
let ptraceCap: boolean | undefined;

/** CAP_SYS_PTRACE in this process's effective set (read once). */
function mayPtrace(): boolean {
  ptraceCap ??= hasCap(effectiveCaps(), CAP_SYS_PTRACE);
  return ptraceCap;
}

/** Exec events (seeded: true) for the traced processes, oldest first so parents precede children. */
export function seedEvents(procs: ProcInfo[], filter: FilterSpec, now: number): ExecEvent[] {
  return tracedSet(procs, filter)
    .sort((a, b) => a.start - b.start)
    .map((p) => ({ ...execFromInfo(p, now), seeded: true }));
}

export function execFromInfo(p: ProcInfo, now: number): ExecEvent {
  return {
    type: 'exec', time: now, pid: p.pid, ppid: p.ppid, tid: p.pid, uid: p.uid, comm: p.comm, start: p.start,
    startedAt: p.startedAt, cgroupId: p.cgroupId, filename: p.filename, args: p.args, argsTruncated: false,
    ...(p.cgroup ? { cgroup: p.cgroup, unit: unitOf(p.cgroup) } : {}),
  };
}
