// Why a process ended, one vocabulary for every output: the `reason` keyword (NDJSON, snapshots,
// search), a short form for the STATE column and a long one for the event log and the details.
// Pure. The sender's comm is untrusted and left raw here: each output escapes it its own way.

import { constants } from 'node:os';
import type { ExitEvent, KilledBy, ProcessRow } from './types';

/**
 * ok: exit 0 · code: a non-zero exit code · signal: a signal ended it · core: ... and dumped core ·
 * oom: the OOM killer ended it · lost: its end was not observed, or its status is unknown.
 */
export type ExitReason = 'ok' | 'code' | 'signal' | 'oom' | 'core' | 'lost';
export const EXIT_REASONS: readonly ExitReason[] = ['ok', 'code', 'signal', 'oom', 'core', 'lost'];

// The first name of a number is the usual one (SIGABRT before its alias SIGIOT, SIGIO before SIGPOLL).
const SIGNAL_NAMES = new Map<number, string>();
for (const [name, num] of Object.entries(constants.signals)) if (!SIGNAL_NAMES.has(num)) SIGNAL_NAMES.set(num, name);

export function signalName(sig: number): string {
  return SIGNAL_NAMES.get(sig) ?? `SIG${sig}`;
}

/** Signals the kernel sends for what the process itself did wrong: shown as a fault, not as "the kernel's". */
const FAULTS = new Set([constants.signals.SIGSEGV, constants.signals.SIGBUS, constants.signals.SIGILL,
  constants.signals.SIGFPE, constants.signals.SIGTRAP, constants.signals.SIGSYS]);

/** Shells: their 126, 127 and 128+N have the meanings POSIX gives them. */
export const SHELLS: ReadonlySet<string> = new Set(['sh', 'bash', 'dash', 'zsh', 'ash', 'ksh', 'mksh', 'busybox']);
/** Programs that run another and say 126 (found, cannot run) or 127 (not found) as shells do. */
const LAUNCHERS: ReadonlySet<string> = new Set([...SHELLS, 'env', 'nohup', 'xargs', 'timeout', 'sudo', 'nice', 'chroot', 'setpriv']);

/** What an end is known by, the same whether it comes from an exit event or a table row. */
export interface Ending {
  pid: number;
  /** Who ended: an exit code's meaning depends on it (127 from a shell is "not found"; from python, just 127). */
  comm?: string;
  /** Not observed at all (inferred vanished, a lost row). */
  lost: boolean;
  /** null: not known (lost, or a source that cannot see it). */
  exitCode: number | null;
  signal: number | null;
  coreDumped: boolean;
  /** The status was read from an unreaped zombie in /proc, not reported by the kernel. */
  fromProc: boolean;
  killedBy: KilledBy | null;
  /** RSS (KiB) when the OOM killer chose it; null when it did not. */
  oomRssKb: number | null;
  /** The memory cgroup it was OOM-killed in (untrusted), when known. */
  oomMemcg?: string | null;
}

export function endingOfEvent(ev: ExitEvent): Ending {
  const lost = ev.inferred === 'vanished';
  const unknown = lost || ev.unknownStatus === true;
  return {
    pid: ev.pid, comm: ev.comm, lost, exitCode: unknown ? null : ev.exitCode, signal: unknown ? null : ev.signal,
    coreDumped: ev.coreDumped, fromProc: ev.inferred === 'zombie', killedBy: ev.killedBy ?? null,
    oomRssKb: ev.oom ? ev.oom.rssKb : null, oomMemcg: ev.oom?.memcg ?? null,
  };
}

type RowEnd = Pick<ProcessRow, 'pid' | 'state' | 'exitCode' | 'signal' | 'coreDumped' | 'exitFromProc'>
  & Partial<Pick<ProcessRow, 'killedBy' | 'oomRssKb' | 'oomMemcg' | 'comm'>>;

/** null while the process runs. */
export function endingOfRow(row: RowEnd): Ending | null {
  if (row.state === 'running') return null;
  return {
    pid: row.pid, comm: row.comm, lost: row.state === 'lost', exitCode: row.exitCode, signal: row.signal, coreDumped: row.coreDumped,
    fromProc: row.exitFromProc, killedBy: row.killedBy ?? null, oomRssKb: row.oomRssKb ?? null, oomMemcg: row.oomMemcg ?? null,
  };
}

export function reasonOf(e: Ending): ExitReason {
  if (e.lost || (e.exitCode === null && !e.signal)) return 'lost';
  if (e.oomRssKb !== null) return 'oom';
  if (e.signal) return e.coreDumped ? 'core' : 'signal';
  return e.exitCode ? 'code' : 'ok';
}

/** reasonOf(endingOfEvent(ev)) without building the Ending: every exit line of the stream asks. */
export function eventReason(ev: ExitEvent): ExitReason {
  if (ev.inferred === 'vanished' || ev.unknownStatus) return 'lost';
  if (ev.oom) return 'oom';
  if (ev.signal) return ev.coreDumped ? 'core' : 'signal';
  return ev.exitCode ? 'code' : 'ok';
}

/** null while the process runs. */
export function rowReason(row: RowEnd): ExitReason | null {
  const e = endingOfRow(row);
  return e ? reasonOf(e) : null;
}

/**
 * The STATE column: `run`, `exit 3`, `SIGKILL`, `SEGV core` (no SIG: the column is 10 cells), `OOM`, `lost`;
 * `Z ` first when read from a zombie.
 */
export function stateText(row: RowEnd): string {
  const e = endingOfRow(row);
  if (!e) return 'run';
  if (e.lost) return 'lost';
  const zombie = e.fromProc ? 'Z ' : '';
  if (e.oomRssKb !== null) return zombie + 'OOM';
  if (e.signal) return zombie + (e.coreDumped ? `${signalName(e.signal).replace(/^SIG/, '')} core` : signalName(e.signal));
  return `${zombie}exit ${e.exitCode ?? '?'}`;
}

/**
 * The event log and details: `SIGTERM by kill[4242] uid 1000`, `SIGTERM by itself`, `SIGSEGV (fault)`,
 * `OOM-killed (412 MiB)`, `exit 127 (command not found)`, `exit 130 (128+SIGINT, from a shell)`.
 */
export function reasonText(e: Ending): string {
  if (e.lost) return 'exit lost';
  if (e.exitCode === null && !e.signal) return 'exit ?';
  const text = e.oomRssKb !== null ? oomText(e.oomRssKb, e.oomMemcg ?? null)
    : e.signal ? signalText(e) + (e.coreDumped ? ', core dumped' : '')
      : codeText(e.exitCode ?? 0, e.comm);
  return e.fromProc ? `zombie, ${text} (from /proc)` : text;
}

function oomText(rssKb: number, memcg: string | null): string {
  const where = memcg ? ` in ${memcg}` : '';
  if (rssKb <= 0) return `OOM-killed${where}`;
  return `OOM-killed (${rssKb < 1024 ? `${rssKb} KiB` : `${Math.round(rssKb / 1024)} MiB`})${where}`;
}

function signalText(e: Ending): string {
  const name = signalName(e.signal!);
  const by = e.killedBy;
  if (!by) return name;
  if (by.kernel) return `${name} (${FAULTS.has(e.signal!) ? 'fault' : 'kernel'})`;
  if (by.pid === e.pid) return `${name} by itself`;
  return `${name} by ${by.comm}[${by.pid}] uid ${by.uid}`;
}

/** Exit codes with a meaning shells agree on, where it is unambiguous: from a shell (or a launcher, for 126/127). */
function codeText(code: number, comm = ''): string {
  if (code === 126 && LAUNCHERS.has(comm)) return 'exit 126 (not executable)';
  if (code === 127 && LAUNCHERS.has(comm)) return 'exit 127 (command not found)';
  if (code > 128 && SHELLS.has(comm) && SIGNAL_NAMES.has(code - 128)) return `exit ${code} (128+${signalName(code - 128)}, from a shell)`;
  return `exit ${code}`;
}

/** How a launched COMMAND ended, in one line (the status bar, and stderr when lifetop exits). */
export function commandEndText(end: { code: number | null; signal: string | null; status: number }): string {
  return end.signal ? `command killed by ${end.signal} (status ${end.status})` : `command exited with code ${end.code}`;
}

/** Sort rank of an ended row's reason (running rows and lost ones come first, as STATE sorts). */
export const REASON_RANK: Record<ExitReason, number> = { lost: 0, ok: 1, code: 2, signal: 3, core: 4, oom: 5 };

/** The sender as one text cell (CSV): `comm[pid] uid N`, `kernel`, or '' when none is known. */
export function killedByText(by: KilledBy | null): string {
  if (!by) return '';
  return by.kernel ? 'kernel' : `${by.comm}[${by.pid}] uid ${by.uid}`;
}
