// /proc reader: seeds the table with processes already running, tells reconcile which
// are alive, samples CPU and RSS, and polls as an event source for users without BPF.

import * as fs from 'node:fs';
import { matchComm } from '../core/filter';
import { EventCounter } from '../core/counters';
import { ExecTrigger, nativeWatcher, type WatcherFactory } from './execWatch';
import { Counters, EventSource, ExecEvent, ExitEvent, FilterSpec, LifecycleEvent, NS_PER_TICK, processKey } from '../core/types';

/** USER_HZ: /proc reports times in these ticks on every Linux ABI. */
const TICKS_PER_SEC = 1e9 / NS_PER_TICK;

export interface ProcInfo {
  pid: number; ppid: number; uid: number; comm: string; args: string[];
  /** readlink /proc/PID/exe; '' when not ours to read (non-root) or a kernel thread. */
  filename: string;
  /** Boot ns, tick precision. */
  start: number;
  /** Epoch ms. */
  startedAt: number;
  cgroupId: string;
  threads: number;
}

/** The fields of /proc/PID/stat lifetop uses. */
export interface ProcStat {
  pid: number; comm: string; state: string; ppid: number;
  utimeTicks: number; stimeTicks: number; threads: number; startTicks: number;
  /** Field 52 (Linux 3.5+): the status wait(2) will report, meaningful once the process is a zombie. */
  exitStatus: number | null;
}

/**
 * Parses /proc/PID/stat. comm sits in parentheses and may itself contain spaces and ')',
 * so the fields resume after the LAST ')'.
 */
export function parseStat(text: string): ProcStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 1 || close < open) return null;
  // fields[0] is field 3 (state) of proc(5).
  const fields = text.slice(close + 2).trim().split(' ');
  if (fields.length < 20) return null;
  const field = (n: number) => Number(fields[n - 3]);
  const stat: ProcStat = {
    pid: Number(text.slice(0, open - 1)), comm: text.slice(open + 1, close), state: fields[0], ppid: field(4),
    utimeTicks: field(14), stimeTicks: field(15), threads: field(20), startTicks: field(22),
    exitStatus: fields.length >= 50 && Number.isInteger(field(52)) ? field(52) : null,
  };
  return Number.isInteger(stat.pid) && Number.isInteger(stat.startTicks) ? stat : null;
}

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null; // the process exited or is not ours to read: callers skip it
  }
}

export function readStat(pid: number): ProcStat | null {
  const text = readText(`/proc/${pid}/stat`);
  return text === null ? null : parseStat(text);
}

/**
 * A process is running while it has a live thread. State Z (or X) of the leader alone does not
 * say it: a leader that called pthread_exit stays a zombie while its other threads run.
 * Non-leader threads are released as they die, so a zombie leader with num_threads 1 is the
 * whole process, dead and not yet reaped.
 */
export function isDead(stat: ProcStat): boolean {
  if (stat.state !== 'Z' && stat.state !== 'X') return false;
  if (stat.threads <= 1) return true;
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${stat.pid}/task`);
  } catch {
    return true; // reaped while we looked
  }
  return !tids.some((tid) => {
    const t = readText(`/proc/${stat.pid}/task/${tid}/stat`);
    const ts = t === null ? null : parseStat(t);
    return ts !== null && ts.state !== 'Z' && ts.state !== 'X';
  });
}

let bootMs: number | undefined;

/**
 * Wall-clock time of boot, epoch ms. From /proc/uptime (10 ms precision) rather than
 * btime (whole seconds), read once so every start converts the same way.
 */
export function bootTimeMs(): number {
  if (bootMs === undefined) {
    const uptimeSec = Number((readText('/proc/uptime') ?? '').split(' ')[0]);
    bootMs = Number.isFinite(uptimeSec) && uptimeSec > 0 ? Date.now() - uptimeSec * 1000 : btimeMs();
  }
  return bootMs;
}

function btimeMs(): number {
  const match = /^btime (\d+)$/m.exec(readText('/proc/stat') ?? '');
  return match ? Number(match[1]) * 1000 : 0;
}

export function readProc(pid: number): ProcInfo | null {
  const stat = readStat(pid);
  if (!stat) return null;
  return infoFromStat(stat);
}

function infoFromStat(stat: ProcStat): ProcInfo | null {
  const { pid } = stat;
  const status = readText(`/proc/${pid}/status`);
  const cmdline = readText(`/proc/${pid}/cmdline`);
  if (status === null || cmdline === null) return null;
  const uid = /^Uid:\s+(\d+)/m.exec(status); // the real uid, as the kernel events report
  const start = stat.startTicks * NS_PER_TICK;
  return {
    pid, ppid: stat.ppid, uid: uid ? Number(uid[1]) : 0, comm: stat.comm, args: splitCmdline(cmdline),
    filename: readExe(pid), start, startedAt: bootTimeMs() + start / 1e6, cgroupId: '0', threads: stat.threads,
  };
}

function splitCmdline(cmdline: string): string[] {
  if (cmdline === '') return [];
  const args = cmdline.split('\0');
  if (args[args.length - 1] === '') args.pop();
  return args;
}

function readExe(pid: number): string {
  try {
    return fs.readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return '';
  }
}

function pids(): number[] {
  let names: string[];
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  return names.filter((n) => /^\d+$/.test(n)).map(Number);
}

export function scanProc(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const pid of pids()) {
    const info = readProc(pid);
    if (info) out.push(info);
  }
  return out;
}

/** Cheap scan (stat files only) of every live process. */
function scanStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const pid of pids()) {
    const stat = readStat(pid);
    if (stat) out.push(stat);
  }
  return out;
}

/** Every process in /proc by processKey (zombies included: isDead tells them apart). */
export function scanByKey(): Map<string, ProcStat> {
  return new Map(scanStats().map((st) => [statKey(st), st]));
}

/** Which of `procs` the filter traces: comm matches, plus (followChildren) all their descendants. */
export function tracedSet<T extends { pid: number; ppid: number; comm: string }>(procs: T[], filter: FilterSpec): T[] {
  const traced = new Set(procs.filter((p) => matchComm(filter.patterns, p.comm)));
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

/** The kernel shows field 52 only to who may ptrace the process; others read 0. */
function canReadStatus(uid: number): boolean {
  const me = process.geteuid?.() ?? 0;
  return me === 0 || me === uid;
}

/** Exec events (seeded: true) for the traced processes, oldest first so parents precede children. */
export function seedEvents(procs: ProcInfo[], filter: FilterSpec, now: number): ExecEvent[] {
  return tracedSet(procs, filter)
    .sort((a, b) => a.start - b.start)
    .map((p) => ({ ...execFromInfo(p, now), seeded: true }));
}

function execFromInfo(p: ProcInfo, now: number): ExecEvent {
  return {
    type: 'exec', time: now, pid: p.pid, ppid: p.ppid, tid: p.pid, uid: p.uid, comm: p.comm, start: p.start,
    startedAt: p.startedAt, cgroupId: p.cgroupId, filename: p.filename, args: p.args, argsTruncated: false,
  };
}

let pageKb: number | undefined;

/**
 * statm counts pages. Node's os module does not expose the page size, so read it from our own
 * smaps ("KernelPageSize: 4 kB"); 4 KiB, the size on x86-64 and common arm64 kernels, if that fails.
 */
function pageSizeKb(): number {
  if (pageKb === undefined) {
    let head = '';
    try {
      const fd = fs.openSync('/proc/self/smaps', 'r');
      const buf = Buffer.alloc(4096);
      head = buf.toString('utf8', 0, fs.readSync(fd, buf, 0, buf.length, 0));
      fs.closeSync(fd);
    } catch {
      // keep the default
    }
    const match = /KernelPageSize:\s+(\d+) kB/.exec(head);
    pageKb = match ? Number(match[1]) : 4;
  }
  return pageKb;
}

/** What a running process looks like now: CPU%, RSS, and its comm (prctl can rename it, as htop shows). */
export interface LiveStats {
  cpuPct: number;
  rssKb: number;
  comm: string;
}

/** CPU% from utime+stime between two calls, and RSS; keeps the previous sample per key. */
export class StatsSampler {
  private prev = new Map<string, { cpuTicks: number; at: number }>();

  sample(rows: { pid: number; key: string }[], now: number): Map<string, LiveStats> {
    const out = new Map<string, LiveStats>();
    const next = new Map<string, { cpuTicks: number; at: number }>();
    for (const { pid, key } of rows) {
      const stat = readStat(pid);
      // Gone, or the pid now belongs to a newer process: skip it.
      if (!stat || processKey(pid, stat.startTicks * NS_PER_TICK) !== key) continue;
      const statm = readText(`/proc/${pid}/statm`);
      if (statm === null) continue;
      const cpuTicks = stat.utimeTicks + stat.stimeTicks;
      const before = this.prev.get(key);
      next.set(key, { cpuTicks, at: now });
      const cpuPct = before ? cpuPercent(cpuTicks - before.cpuTicks, now - before.at) : this.sinceStart(cpuTicks, stat, now);
      out.set(key, {
        cpuPct: Math.round(cpuPct * 10) / 10, // the precision top shows; finer is noise from tick sampling
        rssKb: Number(statm.split(' ')[1]) * pageSizeKb(),
        comm: stat.comm,
      });
    }
    this.prev = next; // forgets keys not asked about, so memory follows the table
    return out;
  }

  /** First sample of a process: its average since it started, as ps shows. */
  private sinceStart(cpuTicks: number, stat: ProcStat, now: number): number {
    return cpuPercent(cpuTicks, now - (bootTimeMs() + (stat.startTicks * 1000) / TICKS_PER_SEC));
  }
}

function cpuPercent(ticks: number, elapsedMs: number): number {
  if (!(elapsedMs > 0) || ticks < 0) return 0;
  return ((ticks / TICKS_PER_SEC) * 1000 * 100) / elapsedMs;
}

interface Known {
  stat: ProcStat;
  info: ProcInfo | null;
  traced: boolean;
  /** When first caught inside execve (new name, no arguments yet): judged again on later scans. */
  deferredAt?: number;
}

export interface ProcSourceOptions {
  /** Poll period, ms (default 500). */
  intervalMs?: number;
  /** What scans on program starts: the addon's inotify watcher by default; a string says why there is none. */
  watcher?: WatcherFactory | string;
}

/**
 * Polls /proc and turns differences between scans into events: on a timer, and at once
 * (throttled) when the file system shows a program starting, so short-lived processes are
 * seen too. Processes already running at start() or revealed by setFilter() are traced
 * silently: seeding them is the caller's job (seedEvents), exactly as with the kernel source.
 */
export class ProcSource implements EventSource {
  readonly kind = 'proc';
  caveat: string;
  private readonly intervalMs: number;
  private readonly watcher: WatcherFactory | string;
  private readonly trigger = new ExecTrigger(() => this.poll(false));
  private filter: FilterSpec;
  private readonly counter = new EventCounter();
  private known = new Map<string, Known>();
  private timer: NodeJS.Timeout | null = null;
  private onEvents: ((events: LifecycleEvent[]) => void) | null = null;

  constructor(filter: FilterSpec, opts: ProcSourceOptions = {}) {
    this.filter = copyFilter(filter);
    this.intervalMs = opts.intervalMs ?? 500;
    // Known before start(): the CLI shows the caveat as soon as the source exists.
    this.watcher = opts.watcher ?? nativeWatcher();
    this.caveat = typeof this.watcher === 'string' ? this.pollOnlyCaveat('native addon not loaded') : this.triggeredCaveat();
  }

  private triggeredCaveat(): string {
    return `polling /proc on program starts and every ${this.intervalMs / 1000}s: processes shorter than a few ms may be missed; exit status unknown`;
  }

  private pollOnlyCaveat(why: string): string {
    return `polling /proc every ${this.intervalMs / 1000}s only (${why}): processes shorter than that are missed; exit status unknown`;
  }

  start(onEvents: (events: LifecycleEvent[]) => void): void {
    if (this.timer) return;
    this.onEvents = onEvents;
    // The baseline is taken now, so a process started after start() returns is reported.
    this.known = new Map(scanStats().map((stat) => [statKey(stat), { stat, info: null, traced: false }]));
    this.traceMatches();
    this.timer = setInterval(() => this.poll(), this.intervalMs);
    this.timer.unref(); // a poller must never be what keeps the process alive
    if (typeof this.watcher !== 'string') {
      const why = this.trigger.start(this.watcher);
      if (why !== null) this.caveat = this.pollOnlyCaveat(`no start trigger: ${why}`);
    }
  }

  stop(): void {
    this.trigger.stop();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.onEvents = null;
  }

  /** Processes that match now are traced from here on; traced ones stay traced (as in the kernel). */
  setFilter(filter: FilterSpec): void {
    this.filter = copyFilter(filter);
    this.traceMatches();
  }

  counters(): Counters {
    return this.counter.counters();
  }

  private traceMatches(): void {
    const entries = [...this.known.values()];
    const matched = new Set(tracedSet(entries.map((e) => e.stat), this.filter));
    for (const entry of entries) {
      if (entry.traced || !matched.has(entry.stat)) continue;
      entry.info = infoFromStat(entry.stat);
      entry.traced = entry.info !== null;
    }
  }

  /** A full scan on the timer; on program starts, only what a start can have changed. */
  private poll(full = true): void {
    if (!this.onEvents) return;
    const events = this.diff(full ? scanStats() : this.quickScan(), Date.now());
    if (events.length === 0) return;
    this.counter.add(events);
    this.onEvents(events);
  }

  /**
   * New and young processes (a fresh fork may exec, or be caught mid-exec) are read again;
   * older ones keep their last stat and are only checked for presence. So a burst of starts
   * costs per start, not per process on the machine; the timer's full scan sees the rest
   * (an old process that execs in place, a reused pid).
   */
  private quickScan(): ProcStat[] {
    const byPid = new Map<number, Known>();
    for (const entry of this.known.values()) byPid.set(entry.stat.pid, entry);
    const youngFrom = ((Date.now() - bootTimeMs()) / 1000) * TICKS_PER_SEC - YOUNG_TICKS;
    const out: ProcStat[] = [];
    for (const pid of pids()) {
      const entry = byPid.get(pid);
      const keep = entry !== undefined && entry.deferredAt === undefined && entry.stat.startTicks < youngFrom;
      const stat = keep ? entry.stat : readStat(pid);
      if (stat) out.push(stat);
    }
    return out;
  }

  private diff(stats: ProcStat[], now: number): LifecycleEvent[] {
    const events: LifecycleEvent[] = [];
    const current = new Map<string, Known>();
    // Oldest first, so a parent is traced before its children are judged.
    stats.sort((a, b) => a.startTicks - b.startTicks);
    const tracedPids = new Set<number>();
    for (const stat of stats) {
      const key = statKey(stat);
      const old = this.known.get(key);
      const entry: Known = old ?? { stat, info: null, traced: false };
      // A comm change on a known process is an exec in place; a deferred one is judged again.
      const { deferredAt } = entry;
      entry.deferredAt = undefined;
      const deferred = deferredAt !== undefined;
      const execd = deferred || (old !== undefined && old.stat.comm !== stat.comm);
      entry.stat = stat;
      if (entry.traced ? execd : this.wanted(stat, old === undefined || deferred, execd, tracedPids)) {
        const info = infoFromStat(stat);
        // Scans follow program starts closely enough to land inside execve, where a process
        // preempted on a busy machine can stay for ms: look again on later scans (the trigger
        // always scans again ~20 ms on) rather than report it without arguments, for a while.
        if (info && midExec(info, stat) && now - (deferredAt ?? now) < MID_EXEC_GRACE_MS) {
          entry.deferredAt = deferredAt ?? now;
        } else {
          entry.info = info;
          entry.traced = entry.traced || info !== null;
          if (info) events.push(execFromInfo(info, now));
        }
      }
      if (entry.traced) tracedPids.add(stat.pid);
      current.set(key, entry);
    }
    for (const [key, gone] of this.known) {
      if (!current.has(key) && gone.traced && gone.info) events.push(exitFromKnown(gone.info, gone.stat, now));
    }
    this.known = current;
    return events;
  }

  /** Mirrors the kernel filter: the comm matches at exec, or the parent is traced at fork. */
  private wanted(stat: ProcStat, isNew: boolean, execd: boolean, tracedPids: Set<number>): boolean {
    const matches = matchComm(this.filter.patterns, stat.comm);
    if (!isNew) return execd && matches;
    return matches || (this.filter.followChildren && tracedPids.has(stat.ppid));
  }
}

/** Processes younger than this (1 s) are read again on every triggered scan. */
const YOUNG_TICKS = TICKS_PER_SEC;

/** How long a process may look mid-exec before it is reported as it is (it may have cleared its cmdline). */
const MID_EXEC_GRACE_MS = 100;

/**
 * The kernel renames a process before it copies the arguments of the new image: a live
 * process with a name but no cmdline is most likely inside execve (kernel threads have none
 * either: kthreadd, pid 2, is their parent).
 */
function midExec(info: ProcInfo, stat: ProcStat): boolean {
  return info.args.length === 0 && stat.state !== 'Z' && stat.pid !== 2 && stat.ppid !== 2;
}

function copyFilter(filter: FilterSpec): FilterSpec {
  return { patterns: [...filter.patterns], followChildren: filter.followChildren };
}

function statKey(stat: ProcStat): string {
  return processKey(stat.pid, stat.startTicks * NS_PER_TICK);
}

/** /proc cannot tell how a process ended: status 0 flagged unknownStatus. */
function exitFromKnown(p: ProcInfo, stat: ProcStat, now: number): ExitEvent {
  return {
    type: 'exit', time: now, pid: p.pid, ppid: stat.ppid, tid: p.pid, uid: p.uid, comm: stat.comm, start: p.start,
    startedAt: p.startedAt, cgroupId: p.cgroupId, exitCode: 0, signal: 0, coreDumped: false,
    durationMs: Math.max(0, now - p.startedAt), cpuMs: ((stat.utimeTicks + stat.stimeTicks) * 1000) / TICKS_PER_SEC,
    unknownStatus: true,
  };
}
