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
  /**
   * Untrusted (cgroup names are chosen by whoever may create cgroups): where it ran, core/cgroup's
   * pickCgroup (v2 path, or on hybrid v1 systems the memory controller's). Filled in user space
   * (session) from the ids or /proc; absent when not known (old recordings, unresolved ids).
   */
  cgroup?: string;
  /** Untrusted: the short name derived from cgroup (core/cgroup unitOf); '' for the root. */
  unit?: string;
}

export interface ExecEvent extends EventBase {
  type: 'exec';
  /** Untrusted. */
  filename: string;
  /** Untrusted. argv as read from the new image's mm->arg_start..arg_end. */
  args: string[];
  /** argv did not fit in the kernel buffer. */
  argsTruncated: boolean;
  /** The v1 memory controller's cgroup id at exec (kernel source; '0': none). Not written to NDJSON. */
  memcgId?: string;
  /** true when the event was synthesized from /proc for an already-running process. */
  seeded?: boolean;
  /** true when /proc showed a process the events missed (after a loss): synthesized, like seeded. */
  recovered?: boolean;
}

/** Who sent the signal a process died of: another process (or itself), or the kernel. */
export interface KilledBy {
  /** The sender's tgid; 0 when the kernel sent it. */
  pid: number;
  /** Untrusted: the sender's process name (its leader's comm); '' when the kernel sent it. */
  comm: string;
  /** The sender's real uid; 0 when the kernel sent it. */
  uid: number;
  /** A fault (SIGSEGV, SIGBUS...), a timer, a hangup, the OOM killer: not a process's kill(2). */
  kernel: boolean;
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
  /**
   * Not observed by the kernel, inferred from /proc: 'zombie', the process is dead but unreaped and
   * its status is /proc/PID/stat field 52; 'vanished', it is gone and its exit was lost (status unknown).
   */
  inferred?: 'zombie' | 'vanished';
  /** Part of seeding (a process that had already exited when lifetop looked). */
  seeded?: boolean;
  /** Who sent the signal it died of, when the kernel saw it sent (absent: no signal, or not seen). */
  killedBy?: KilledBy;
  /** The OOM killer ended it; its RSS (KiB) when chosen. */
  /**
   * The OOM killer chose it: its RSS then, and its memory cgroup then (the kernel's id, and the path
   * user space resolved; untrusted), whose limit or an ancestor's was hit.
   */
  oom?: { rssKb: number; memcgId?: string; memcg?: string };
}

export interface ForkEvent extends EventBase {
  type: 'fork';
  childPid: number;
  /** Child's start_boottime, ns since boot. */
  childStart: number;
}

export type LifecycleEvent = ExecEvent | ExitEvent | ForkEvent;

/** Where events were lost: the kernel ring buffer, the addon's queue to JS, the kernel's traced set. */
export type LossStage = 'kernel_ring' | 'addon_queue' | 'traced_map';
export const LOSS_STAGES: LossStage[] = ['kernel_ring', 'addon_queue', 'traced_map'];

/** A gap in the stream: `count` events (or, for traced_map, processes) lost between since and until. */
export interface LostRecord {
  type: 'lost';
  /** When the loss was noticed, epoch ms. */
  time: number;
  stage: LossStage;
  count: number;
  since: number;
  until: number;
}

/** What flows from a source through the session to every output, in order. */
export type StreamRecord = LifecycleEvent | LostRecord;

/** The first line of a recording: how it was made. */
export interface RecordingHeader {
  type: 'header';
  version: string;
  source: SourceKind;
  filter: string[];
  followChildren: boolean;
  /** Boot time, epoch ms. */
  bootTime: number;
}

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
  /** Records the addon dropped because JS fell too far behind. */
  queueDrops: number;
}

/** The counter behind each loss stage. */
export const LOSS_COUNTER: Record<LossStage, 'drops' | 'queueDrops' | 'trackFails'> = {
  kernel_ring: 'drops', addon_queue: 'queueDrops', traced_map: 'trackFails',
};

export type SourceKind = 'bpf' | 'proc' | 'replay';

/** Kernel-side filter: comm patterns ("python*" prefix, "uvicorn" exact, "*" all). */
export interface FilterSpec {
  patterns: string[];
  followChildren: boolean;
  /** --pid: these processes are traced whatever their comm (with their descendants when following). */
  pids?: number[];
}

/**
 * Every event source implements this, so BPF, /proc polling and replay are
 * interchangeable and the model never knows which one feeds it.
 */
export interface EventSource {
  readonly kind: SourceKind;
  /** Begin delivering events; onEvents receives batches, never one call per event. */
  start(onEvents: (events: StreamRecord[]) => void): void;
  stop(): void;
  /** Change what is traced without restarting. */
  setFilter(filter: FilterSpec): void;
  /** Cumulative counters: the kernel's, or (replay, /proc) derived from the events delivered. */
  counters(): Counters;
  /** A fault that stopped delivery (the kernel source's poll thread failed), or null. */
  fault?(): string | null;
  /** Resolves when a finite source (replay) has delivered everything. */
  readonly done?: Promise<void>;
  /** One line shown to the user about the source's limits, e.g. /proc misses short-lived processes. */
  readonly caveat?: string;
}

/**
 * A source that must be told to follow already-running processes (pid and start, ns) so their
 * exits arrive: the kernel's traced set. /proc and replay see everything they can; they are not this.
 */
export interface FollowingSource extends EventSource {
  /** Returns how many could not be tracked (the traced set was full); they are counted as traced_map loss. */
  track(procs: { pid: number; start: number }[]): number;
}

export function isFollowing(source: EventSource): source is FollowingSource {
  return typeof (source as Partial<FollowingSource>).track === 'function';
}

/** Conversion between /proc's clock ticks and the kernel's boot ns (pairing key). */
export const NS_PER_TICK = 1e7; // CLK_TCK = 100 on Linux

/** Pairing key: (pid, start) with start reduced to clock ticks so seeded and traced rows pair. */
export function processKey(pid: number, startNs: number): string {
  return `${pid}:${Math.floor(startNs / NS_PER_TICK)}`;
}

/** A row of the process table: what the model knows of one process (no view state). */
export type RowState = 'running' | 'exited' | 'lost';

export interface ProcessRow {
  key: string; pid: number; ppid: number; uid: number; user: string;
  comm: string; filename: string; args: string[]; argsTruncated: boolean; label: string;
  /** Boot ns (pairing). */
  start: number;
  /** Epoch ms. */
  startedAt: number;
  /** Epoch ms when the row entered the table (the UI highlights new rows). */
  firstSeenAt: number;
  /** Epoch ms (table clock) when the row was seen to stop running, which its retention counts from; null while it runs. */
  endSeenAt: number | null;
  /** Execs seen of this process (an exec in place adds one), and the time of the last (epoch ms; 0: none seen). */
  execs: number;
  lastExecAt: number;
  state: RowState;
  /** null while running, for lost rows, and when the source cannot know the status (/proc polling). */
  exitCode: number | null; signal: number | null; coreDumped: boolean;
  /** Exit time; for a lost row, when reconcile noticed it was gone. */
  exitedAt: number | null; lifetimeMs: number | null;
  cpuPct: number | null; rssKb: number | null;
  /** Inferred, not observed: already running when lifetop looked (seeded), or found after a loss (recovered). */
  seeded: boolean; recovered: boolean;
  /** The exit was read from /proc (an unreaped zombie), not reported by the kernel. */
  exitFromProc: boolean;
  /** Who sent the signal it died of (null: running, no signal, or not seen); reason: core/exitReason. */
  killedBy: KilledBy | null;
  /** RSS (KiB) when the OOM killer chose it; null unless it was OOM-killed. */
  oomRssKb: number | null;
  /** Untrusted: the memory cgroup it was OOM-killed in; null unless OOM-killed and known. */
  oomMemcg: string | null;
  cgroupId: string;
  /** Untrusted: where it ran (see EventBase.cgroup); '' when not known. */
  cgroup: string;
  /** Untrusted: short unit/container/pod name of cgroup; '' for the root or unknown. */
  unit: string;
}
