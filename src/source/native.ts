// The one place that touches the compiled addon: finds build/Release/lifetop.node
// and, when it cannot, says every path it tried and how to build it.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface AbiLayout {
  header: Record<'size' | 'ts_ns' | 'start_ns' | 'cgroup_id' | 'type' | 'pid' | 'ppid' | 'tid' | 'uid' | 'comm', number>;
  exec: Record<'size' | 'memcg_id' | 'filename_len' | 'args_len' | 'args_truncated' | 'filename' | 'args', number>;
  exit: Record<'size' | 'duration_ns' | 'cpu_ns' | 'exit_code' | 'signal' | 'core_dumped' | 'oom_rss_kb' | 'oom_memcg_id' | 'sender_pid'
    | 'sender_uid' | 'sender_comm' | 'reason', number>;
  fork: Record<'size' | 'child_start_ns' | 'child_pid', number>;
  types: Record<'exec' | 'exit' | 'fork', number>;
  /** enum lt_exit_reason */
  reasons: Record<'none' | 'signalUser' | 'signalKernel' | 'oom', number>;
  limits: Record<'commLen' | 'filenameMax' | 'argsMax' | 'maxPatterns' | 'tracedMax', number>;
}

export interface NativeCounters {
  forks: number; threads: number; execs: number; exits: number;
  tracedForks: number; tracedExecs: number; tracedExits: number;
  drops: number; trackFails: number;
}

/** Consumer bookkeeping: nudges sent to JS, nudges merged because JS was behind,
 * records read from the ring buffer, records dropped because JS fell too far behind. */
export interface TracerStats {
  batches: number; merges: number; records: number; lost: number;
  /** errno of a failed poll (the reader thread ended), 0 while healthy. */
  pollError: number;
  /** The exit program loaded: 'group_dead' (6.16+) or 'live' (older kernels, or forced). */
  exitProgram: string;
}

export interface NativeTracer {
  start(onBatch: (batch: Buffer) => void): void;
  /** Detaches and returns the records not yet delivered. */
  stop(): Buffer | undefined;
  /** Compiled by core/filter compileFilter: the addon only stores what it is given. */
  setFilter(matchAll: boolean, texts: string[], prefixes: boolean[], followChildren: boolean): void;
  track(pids: number[], startsNs: number[]): number;
  /** --unit in the kernel: cgroups known not to match (v2 ids with 1 deny / 2 by memcg; v1 memory ids). */
  setUnitDeny(enabled: boolean, v2Ids: number[], v2Values: number[], memcgIds: number[]): void;
  counters(): NativeCounters;
  stats(): TracerStats;
}

/** inotify IN_OPEN watches; onActivity runs at most once per burst (one call in flight). */
export interface NativeExecWatcher {
  /** How many of the directories given are watched (missing or unreadable ones are skipped). */
  readonly watched: number;
  /** Stops the thread and drops the watches; idempotent. */
  close(): void;
  stats(): { events: number; notifies: number };
}

export interface NativeAddon {
  Tracer: new (opts: { ringBytes?: number; pollMs?: number; verbose?: boolean; exitProgram?: string }) => NativeTracer;
  ExecWatcher: new (dirs: string[], onActivity: () => void) => NativeExecWatcher;
  abi(): AbiLayout;
  bootEpochMs(): number;
  /** True when fd is a pipe whose reading end is closed. */
  readerGone(fd: number): boolean;
  /** A signal to the process (pid, start in clock ticks) through a pidfd; never to a reused pid. */
  signalProcess(pid: number, startTicks: number, signal: number): SignalResult;
}

/** What became of a signal: sent, or why not. */
export type SignalResult = 'sent' | 'gone' | 'reused' | 'permission' | `error: ${string}`;

/** Error from the addon: `code` says which failure, `log` holds libbpf's words (verifier log). */
export interface NativeError extends Error {
  code?: string;
  log?: string;
}

const ROOT = path.resolve(__dirname, '..', '..');

let cached: NativeAddon | undefined;

export function loadAddon(): NativeAddon {
  if (cached) return cached;
  const tried: string[] = [];
  for (const rel of ['build/Release/lifetop.node', 'build/Debug/lifetop.node']) {
    const file = path.join(ROOT, rel);
    tried.push(file);
    if (fs.existsSync(file)) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      cached = require(file) as NativeAddon;
      return cached;
    }
  }
  throw new Error(`native addon not built (tried ${tried.join(', ')}); run 'make' in ${ROOT}`);
}
