// The kernel source: wraps the native Tracer and decodes its packed batches
// (u32 length + record, 8-byte aligned) into LifecycleEvents.
import * as fs from 'node:fs';
import type { Counters, ExitEvent, FollowingSource, FilterSpec, LifecycleEvent, StreamRecord } from '../core/types';
import { compileFilter } from '../core/filter';
import { interner } from '../core/intern';
import type { UnitDeny } from './cgroups';
import { loadAddon, type AbiLayout, type NativeAddon, type NativeTracer, type TracerStats } from './native';

/** Record layout the decoder assumes; test/unit checks it against the C structs (abi()). */
export const LAYOUT = {
  header: { size: 64, ts_ns: 0, start_ns: 8, cgroup_id: 16, type: 24, pid: 28, ppid: 32, tid: 36, uid: 40, comm: 48 },
  exec: { memcg_id: 64, filename_len: 72, args_len: 74, args_truncated: 76, filename: 80, args: 336 },
  exit: {
    duration_ns: 64, cpu_ns: 72, oom_rss_kb: 80, oom_memcg_id: 88, exit_code: 96, signal: 100, sender_pid: 104, sender_uid: 108,
    sender_comm: 112, core_dumped: 128, reason: 129,
  },
  fork: { child_start_ns: 64, child_pid: 72 },
  types: { exec: 1, exit: 2, fork: 3 },
  /** enum lt_exit_reason */
  reasons: { none: 0, signalUser: 1, signalKernel: 2, oom: 3 },
  commLen: 16,
} as const;

// A storm runs the same few commands again and again, and the table keeps every ended row for its
// retention: rows share one copy of each name, path and argv instead of holding one an event (about
// 150 bytes a row).
const intern = interner();
const INTERN_MAX = 4096;
const INTERN_LENGTH = 256;
const argvs = new Map<string, string[]>();

function cString(buf: Buffer, start: number, max: number): string {
  let end = start;
  while (end < start + max && buf[end] !== 0) end++;
  return intern(buf.toString('utf8', start, end));
}

/** u64 as a Number without a BigInt per field: exact below 2^53 (ns: 104 days of uptime), close beyond. */
function u64(view: DataView, at: number): number {
  return view.getUint32(at, true) + view.getUint32(at + 4, true) * 4294967296;
}

// A machine has few cgroups: decode each id's decimal string once.
const cgroupNames = new Map<number, string>();

function cgroupId(view: DataView, at: number): string {
  const lo = view.getUint32(at, true);
  const hi = view.getUint32(at + 4, true);
  if (hi >= 0x200000) return view.getBigUint64(at, true).toString(); // beyond 2^53: exact via BigInt
  const id = hi * 4294967296 + lo;
  let name = cgroupNames.get(id);
  if (name === undefined) {
    if (cgroupNames.size > 4096) cgroupNames.clear();
    name = String(id);
    cgroupNames.set(id, name);
  }
  return name;
}

/** Who sent the fatal signal and whether the OOM killer did, from an exit record's reason fields. */
function addReason(ev: ExitEvent, batch: Buffer, view: DataView, r: number): ExitEvent {
  const X = LAYOUT.exit;
  const R = LAYOUT.reasons;
  const kind = batch[r + X.reason];
  if (kind === R.signalUser) {
    ev.killedBy = {
      pid: view.getUint32(r + X.sender_pid, true), comm: cString(batch, r + X.sender_comm, LAYOUT.commLen),
      uid: view.getUint32(r + X.sender_uid, true), kernel: false,
    };
  } else if (kind === R.signalKernel || kind === R.oom) {
    ev.killedBy = { pid: 0, comm: '', uid: 0, kernel: true };
    if (kind === R.oom) ev.oom = { rssKb: u64(view, r + X.oom_rss_kb), memcgId: cgroupId(view, r + X.oom_memcg_id) };
  }
  return ev;
}

/**
 * argv as the kernel laid it out: NUL-separated, the last one NUL-terminated unless truncated. A
 * short argv seen before is the same array as before: callers never modify it.
 */
export function splitArgs(buf: Buffer, start: number, len: number): string[] {
  if (len === 0) return [];
  let end = start + len;
  if (buf[end - 1] === 0) end--;
  const raw = buf.toString('utf8', start, end);
  if (raw.length > INTERN_LENGTH) return raw.split('\0');
  let args = argvs.get(raw);
  if (args === undefined) {
    if (argvs.size >= INTERN_MAX) argvs.clear();
    args = raw.split('\0').map(intern);
    argvs.set(raw, args);
  }
  return args;
}

/**
 * Decode one batch. bootEpochMs converts the kernel's boot-time clock to wall-clock.
 * Hot at storm rates: each event is built in one literal per type (one shape, no spreads), with
 * room for the cgroup and unit the session fills in (adding them later grew every event by a
 * property array, which the log kept alive into V8's old generation).
 */
export function decodeBatch(batch: Buffer, bootEpochMs: number): LifecycleEvent[] {
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  const out: LifecycleEvent[] = [];
  const H = LAYOUT.header;
  let off = 0;
  while (off + 4 <= batch.length) {
    const len = view.getUint32(off, true);
    const r = off + 4;
    off += (4 + len + 7) & ~7;
    if (len < H.size || r + len > batch.length) break; // torn batch: never read past it
    const type = view.getUint32(r + H.type, true);
    const time = bootEpochMs + u64(view, r + H.ts_ns) / 1e6;
    const pid = view.getUint32(r + H.pid, true);
    const ppid = view.getUint32(r + H.ppid, true);
    const tid = view.getUint32(r + H.tid, true);
    const uid = view.getUint32(r + H.uid, true);
    const comm = cString(batch, r + H.comm, LAYOUT.commLen);
    const start = u64(view, r + H.start_ns);
    const startedAt = bootEpochMs + start / 1e6;
    const cg = cgroupId(view, r + H.cgroup_id);
    if (type === LAYOUT.types.exec) {
      const E = LAYOUT.exec;
      const fnLen = view.getUint16(r + E.filename_len, true);
      const argsLen = Math.min(view.getUint16(r + E.args_len, true), len - E.args);
      out.push({
        type: 'exec', time, pid, ppid, tid, uid, comm, start, startedAt, cgroupId: cg, cgroup: undefined, unit: undefined,
        filename: intern(batch.toString('utf8', r + E.filename, r + E.filename + fnLen)),
        args: splitArgs(batch, r + E.args, argsLen),
        argsTruncated: batch[r + E.args_truncated] !== 0,
        memcgId: cgroupId(view, r + E.memcg_id),
      });
    } else if (type === LAYOUT.types.exit) {
      const X = LAYOUT.exit;
      const exit: ExitEvent = {
        type: 'exit', time, pid, ppid, tid, uid, comm, start, startedAt, cgroupId: cg, cgroup: undefined, unit: undefined,
        exitCode: view.getInt32(r + X.exit_code, true),
        signal: view.getUint32(r + X.signal, true),
        coreDumped: batch[r + X.core_dumped] !== 0,
        durationMs: u64(view, r + X.duration_ns) / 1e6,
        cpuMs: u64(view, r + X.cpu_ns) / 1e6,
      };
      out.push(batch[r + X.reason] === LAYOUT.reasons.none ? exit : addReason(exit, batch, view, r));
    } else if (type === LAYOUT.types.fork) {
      const F = LAYOUT.fork;
      out.push({
        type: 'fork', time, pid, ppid, tid, uid, comm, start, startedAt, cgroupId: cg, cgroup: undefined, unit: undefined,
        childPid: view.getUint32(r + F.child_pid, true),
        childStart: u64(view, r + F.child_start_ns),
      });
    }
  }
  return out;
}

export interface BpfOptions {
  filter: FilterSpec;
  ringBytes?: number;
  verbose?: boolean;
  /** Which exit program to load: 'auto' (by kernel), or 'live' to force the pre-6.16 one (tests). */
  exitProgram?: 'auto' | 'live' | 'group_dead';
}

export class BpfSource implements FollowingSource {
  readonly kind = 'bpf' as const;
  private readonly tracer: NativeTracer;
  private readonly bootEpochMs: number;
  private onEvents: ((events: StreamRecord[]) => void) | null = null;
  private stopped = false;
  /** Processes track() could not add to the kernel's traced set (it was full): a loss, healed like any. */
  private trackFails = 0;

  /**
   * Loads the programs (throws the addon's one-line errors); attaches on start(). The addon is
   * passed in by tests (a fake), so start, stop, draining and errors are tested without a kernel.
   */
  constructor(opts: BpfOptions, addon: Pick<NativeAddon, 'Tracer' | 'bootEpochMs'> = loadAddon()) {
    this.bootEpochMs = addon.bootEpochMs();
    this.tracer = new addon.Tracer({ ringBytes: opts.ringBytes, verbose: opts.verbose, exitProgram: opts.exitProgram });
    this.setFilter(opts.filter);
  }

  static abi(): AbiLayout {
    return loadAddon().abi();
  }

  start(onEvents: (events: StreamRecord[]) => void): void {
    this.onEvents = onEvents;
    this.tracer.start((batch) => this.deliver(batch));
  }

  /** Detach; what the kernel had sent but JS had not yet seen is delivered now, in order. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    const rest = this.tracer.stop(); // detaches first, then drains: the counters stay readable
    if (rest) this.deliver(rest);
    this.onEvents = null;
  }

  private deliver(batch: Buffer): void {
    const events = decodeBatch(batch, this.bootEpochMs);
    if (events.length > 0 && this.onEvents) this.onEvents(events);
  }

  setFilter(filter: FilterSpec): void {
    if (this.stopped) return;
    const compiled = compileFilter(filter.patterns);
    this.tracer.setFilter(compiled.matchAll, compiled.patterns.map((p) => p.text), compiled.patterns.map((p) => p.prefix), filter.followChildren);
  }

  counters(): Counters {
    const c = this.tracer.counters();
    // trackFails: the kernel's failed inserts plus the ones track() could not make from here.
    return { ...c, trackFails: c.trackFails + this.trackFails, queueDrops: this.tracer.stats().lost };
  }

  track(procs: { pid: number; start: number }[]): number {
    if (procs.length === 0 || this.stopped) return 0;
    const failed = this.tracer.track(procs.map((p) => p.pid), procs.map((p) => p.start));
    this.trackFails += failed;
    return failed;
  }

  /** --unit in the kernel (null: off): execs in cgroups known not to match are not traced. */
  setUnitDeny(lists: UnitDeny | null): void {
    if (this.stopped) return;
    if (lists === null) this.tracer.setUnitDeny(false, [], [], []);
    else this.tracer.setUnitDeny(true, lists.v2.map(([id]) => id), lists.v2.map(([, v]) => v), lists.memcg);
  }

  fault(): string | null {
    const errno = this.tracer.stats().pollError;
    return errno ? `the kernel event reader failed (errno ${errno}): events are no longer received` : null;
  }

  stats(): TracerStats {
    return this.tracer.stats();
  }
}

/**
 * Run time and run count of this process's BPF programs (their fdinfo), or null while the kernel has
 * not counted any: its BPF statistics are on only while sysctl kernel.bpf_stats_enabled=1 or some
 * process holds a BPF_ENABLE_STATS fd (bpftop does), and the sysctl does not show the latter.
 */
export function bpfRunStats(): { runNs: number; runs: number } | null {
  let runNs = 0;
  let runs = 0;
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`) !== 'anon_inode:bpf-prog') continue;
      const info = fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
      runNs += Number(/^run_time_ns:\s*(\d+)/m.exec(info)?.[1] ?? 0);
      runs += Number(/^run_cnt:\s*(\d+)/m.exec(info)?.[1] ?? 0);
    } catch {
      // closed meanwhile (readdir's own fd, a detach)
    }
  }
  return runs > 0 ? { runNs, runs } : null;
}

const NO_COUNTS: Counters = {
  forks: 0, threads: 0, execs: 0, exits: 0, tracedForks: 0, tracedExecs: 0, tracedExits: 0, drops: 0, trackFails: 0, queueDrops: 0,
};

/**
 * The kernel source, loaded when the session starts rather than when it is made: the UI draws its
 * first frame ("attaching…") while the programs are verified (~60 ms), instead of after. What is
 * asked of it before then (filter, counters) is kept or answered empty.
 */
export class DeferredBpfSource implements FollowingSource {
  readonly kind = 'bpf' as const;
  private real: BpfSource | null = null;
  private filter: FilterSpec;

  constructor(private readonly opts: BpfOptions, private readonly addon?: Pick<NativeAddon, 'Tracer' | 'bootEpochMs'>) {
    this.filter = opts.filter;
  }

  /** Loads and verifies the programs (throws the addon's one-line errors). */
  load(): BpfSource {
    this.real ??= new BpfSource({ ...this.opts, filter: this.filter }, this.addon);
    return this.real;
  }

  get loaded(): boolean {
    return this.real !== null;
  }

  start(onEvents: (events: StreamRecord[]) => void): void {
    this.load().start(onEvents);
  }

  stop(): void {
    this.real?.stop();
  }

  setFilter(filter: FilterSpec): void {
    this.filter = filter;
    this.real?.setFilter(filter);
  }

  counters(): Counters {
    return this.real?.counters() ?? NO_COUNTS;
  }

  track(procs: { pid: number; start: number }[]): number {
    return this.load().track(procs);
  }

  setUnitDeny(lists: UnitDeny | null): void {
    this.load().setUnitDeny(lists);
  }

  fault(): string | null {
    return this.real?.fault() ?? null;
  }

  stats(): TracerStats {
    return this.load().stats();
  }
}
