// Shared vocabulary of lifetop: the events every source produces and the
// state the model exposes. Pure types, imported by sources, model, ui and output.

export type EventType = 'exec' | 'exit' | 'fork';

/** Fields every lifecycle event carries (the fixed header of bpf/lifecycle.h). */
export interface EventBase {
  type: EventType;
  /** Wall-clock time of the event, milliseconds since the Unix epoch (fractional). */
  time: number;
  /** Process id (tgid) the event is about; for fork, the parent. */
  pid: number;
  ppid: number;
  /** Thread id that triggered the event. */
  tid: number;
  uid: number;
  /** Untrusted: raw kernel comm, at most 15 bytes, may contain anything. */
  comm: string;
  /** task->start_boottime in ns since boot (/proc/PID/stat field 22 * 1e9 / CLK_TCK). */
  start: number;
  /** The same start as wall-clock epoch ms (the source knows the boot time; replay reads it back). */
  startedAt: number;
  /** cgroup v2 id, decimal string (64-bit). */
  cgroupId: string;
}

export interface ExecEvent extends EventBase {
  type: 'exec';
  /** Untrusted. */
  filename: string;
  /** Untrusted. argv as read from the new image's mm->arg_start..arg_end. */
  args: string[];
  /** argv did not fit in the kernel buffer. */
  argsTruncated: boolean;
  /** true when the event was synthesized from /proc for an already-running process. */
  seeded?: boolean;
}

export interface ExitEvent extends EventBase {
  type: 'exit';
  /** Exit status passed to exit(); 0 when killed by a signal. */
  exitCode: number;
  /** Terminating signal number, 0 for a normal exit. */
  signal: number;
  coreDumped: boolean;
  /** Process lifetime (exit time - start), ms. */
  durationMs: number;
  /** User + system CPU time of the whole process, ms (0 when unknown). */
  cpuMs: number;
  /** true when the source cannot know the exit status (/proc polling): exitCode and signal are placeholders. */
  unknownStatus?: boolean;
}

export interface ForkEvent extends EventBase {
  type: 'fork';
  childPid: number;
  /** Child's start_boottime, ns since boot. */
  childStart: number;
}

export type LifecycleEvent = ExecEvent | ExitEvent | ForkEvent;

/** Cumulative kernel counters (summed over CPUs). */
export interface Counters {
  forks: number;
  threads: number;
  execs: number;
  exits: number;
  tracedForks: number;
  tracedExecs: number;
  tracedExits: number;
  /** Ring buffer reserve failures: events lost in the kernel. */
  drops: number;
  /** Traced-map insert failures: processes that should be traced but are not. */
  trackFails: number;
}

export type SourceKind = 'bpf' | 'proc' | 'replay';

/** Kernel-side filter: comm patterns ("python*" prefix, "uvicorn" exact, "*" all). */
export interface FilterSpec {
  patterns: string[];
  followChildren: boolean;
}

/**
 * Every event source implements this, so BPF, /proc polling and replay are
 * interchangeable and the model never knows which one feeds it.
 */
export interface EventSource {
  readonly kind: SourceKind;
  /** Begin delivering events; onEvents receives batches, never one call per event. */
  start(onEvents: (events: LifecycleEvent[]) => void): void;
  stop(): void;
  /** Change what is traced without restarting. */
  setFilter(filter: FilterSpec): void;
  /** Cumulative counters: the kernel's, or (replay, /proc) derived from the events delivered. */
  counters(): Counters;
  /** Mark already-running processes as traced so their exits arrive. */
  track(pids: number[]): void;
  /** Resolves when a finite source (replay) has delivered everything. */
  readonly done?: Promise<void>;
  /** One line shown to the user about the source's limits, e.g. /proc misses short-lived processes. */
  readonly caveat?: string;
}

/** Conversion between /proc's clock ticks and the kernel's boot ns (pairing key). */
export const NS_PER_TICK = 1e7; // CLK_TCK = 100 on Linux

/** Pairing key: (pid, start) with start reduced to clock ticks so seeded and traced rows pair. */
export function processKey(pid: number, startNs: number): string {
  return `${pid}:${Math.floor(startNs / NS_PER_TICK)}`;
}
