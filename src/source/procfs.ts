// /proc reader: seeds the table with processes already running, tells reconcile which
// are alive, samples CPU and RSS, and polls as an event source for users without BPF.

import * as fs from 'node:fs';
import { matchComm } from '../model/filter';
import { EventCounter } from '../model/rates';
import { Counters, EventSource, ExecEvent, ExitEvent, FilterSpec, LifecycleEvent, NS_PER_TICK, processKey } from '../model/types';

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

/** processKey of every running process. */
export function aliveKeys(): Set<string> {
  return new Set(scanStats().map(statKey));
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
 * Seed events for what runs now and the filter traces. Filters on the stat files first and
 * reads status, cmdline and exe only for the matches: it runs at start-up and on every
 * filter change, on the UI's thread.
 */
export function seedFromProc(filter: FilterSpec, now: number): ExecEvent[] {
  const infos: ProcInfo[] = [];
  for (const stat of tracedSet(scanStats(), filter)) {
    const info = infoFromStat(stat);
    if (info) infos.push(info);
  }
  return seedEvents(infos, filter, now);
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
}

export interface ProcSourceOptions {
  /** Poll period, ms (default 500). */
  intervalMs?: number;
}

/**
 * Polls /proc and turns differences between scans into events. Processes already running
 * at start() or revealed by setFilter() are traced silently: seeding them is the caller's
 * job (seedEvents), exactly as with the kernel source.
 */
export class ProcSource implements EventSource {
  readonly kind = 'proc';
  readonly caveat: string;
  private readonly intervalMs: number;
  private filter: FilterSpec;
  private readonly counter = new EventCounter();
  private known = new Map<string, Known>();
  private timer: NodeJS.Timeout | null = null;
  private onEvents: ((events: LifecycleEvent[]) => void) | null = null;

  constructor(filter: FilterSpec, opts: ProcSourceOptions = {}) {
    this.filter = copyFilter(filter);
    this.intervalMs = opts.intervalMs ?? 500;
    this.caveat = `polling /proc every ${this.intervalMs / 1000}s: processes shorter than that are missed`;
  }

  start(onEvents: (events: LifecycleEvent[]) => void): void {
    if (this.timer) return;
    this.onEvents = onEvents;
    // The baseline is taken now, so a process started after start() returns is reported.
    this.known = new Map(scanStats().map((stat) => [statKey(stat), { stat, info: null, traced: false }]));
    this.traceMatches();
    this.timer = setInterval(() => this.poll(), this.intervalMs);
    this.timer.unref(); // a poller must never be what keeps the process alive
  }

  stop(): void {
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

  track(): void {
    // Every process is visible in /proc: matching ones are traced by the filter already.
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

  private poll(): void {
    if (!this.onEvents) return;
    const events = this.diff(scanStats(), Date.now());
    if (events.length === 0) return;
    this.counter.add(events);
    this.onEvents(events);
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
      // A comm change on a known process is an exec in place.
      const execd = old !== undefined && old.stat.comm !== stat.comm;
      entry.stat = stat;
      if (entry.traced ? execd : this.wanted(stat, old === undefined, execd, tracedPids)) {
        entry.info = infoFromStat(stat);
        entry.traced = entry.traced || entry.info !== null;
        if (entry.info) events.push(execFromInfo(entry.info, now));
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
