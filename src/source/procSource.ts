// The /proc source for users without BPF privileges: scans on program starts (inotify) and on a
// timer, and turns differences between scans into events.

import * as fs from 'node:fs';
import { EventCounter } from '../core/counters';
import { becomesTraced, matchComm } from '../core/filter';
import { Counters, EventSource, ExitEvent, FilterSpec, LifecycleEvent } from '../core/types';
import { ExecTrigger, nativeWatcher, type WatcherFactory } from './execWatch';
import { bootTimeMs, infoFromStat, isDead, pids, ProcInfo, ProcStat, readStat, scanStats, statKey, TICKS_PER_SEC } from './procfs';
import { execFromInfo, inferredExit, tracedSet } from './procSeed';

interface Known {
  stat: ProcStat;
  info: ProcInfo | null;
  traced: boolean;
  /** When first caught inside execve (new name, no arguments yet): judged again on later scans. */
  deferredAt?: number;
  /** Its exit was reported when it became a zombie: not again when it is reaped. */
  ended?: boolean;
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

  /** The bound is measured (README): ~12 ms processes caught 22 of 40, ~24 ms 38 of 40, >= 33 ms 40 of 40. */
  private triggeredCaveat(): string {
    return `polling /proc on program starts and every ${this.intervalMs / 1000}s: processes shorter than ~30 ms may be missed; exit status unknown`;
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
      // Dead but not reaped (no live thread): it has exited, with the status /proc keeps for its parent.
      if (entry.traced && entry.info && !entry.ended && isDead(stat)) {
        events.push(inferredExit(entry.info, stat, now));
        entry.ended = true;
      }
      current.set(key, entry);
    }
    for (const [key, gone] of this.known) {
      if (!current.has(key) && gone.traced && gone.info && !gone.ended) events.push(exitFromKnown(gone.info, gone.stat, now));
    }
    this.known = current;
    return events;
  }

  /** Mirrors the kernel filter: the comm matches at exec, or the parent is traced at fork. */
  private wanted(stat: ProcStat, isNew: boolean, execd: boolean, tracedPids: Set<number>): boolean {
    if (!isNew) return execd && matchComm(this.filter.patterns, stat.comm); // an exec in place
    return becomesTraced(this.filter, stat.comm, tracedPids.has(stat.ppid));
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

/** /proc cannot tell how a process ended: status 0 flagged unknownStatus. */
function exitFromKnown(p: ProcInfo, stat: ProcStat, now: number): ExitEvent {
  return {
    type: 'exit', time: now, pid: p.pid, ppid: stat.ppid, tid: p.pid, uid: p.uid, comm: stat.comm, start: p.start,
    startedAt: p.startedAt, cgroupId: p.cgroupId, exitCode: 0, signal: 0, coreDumped: false,
    durationMs: Math.max(0, now - p.startedAt), cpuMs: ((stat.utimeTicks + stat.stimeTicks) * 1000) / TICKS_PER_SEC,
    unknownStatus: true,
  };
}
