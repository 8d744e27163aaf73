// Reading /proc: the stat parser, per-process details and whole scans. Seeding and healing
// (procSeed.ts), the CPU/RSS sampler (procSampler.ts) and the polling source (procSource.ts) build on it.

import * as fs from 'node:fs';
import { NS_PER_TICK, processKey } from '../core/types';
import { parseProcCgroup, pickCgroup } from '../core/cgroup';

/** USER_HZ: /proc reports times in these ticks on every Linux ABI. */
export const TICKS_PER_SEC = 1e9 / NS_PER_TICK;

export interface ProcInfo {
  pid: number; ppid: number; uid: number; comm: string; args: string[];
  /** readlink /proc/PID/exe; '' when not ours to read (non-root) or a kernel thread. */
  filename: string;
  /** Boot ns, tick precision. */
  start: number;
  /** Epoch ms. */
  startedAt: number;
  cgroupId: string;
  /** Untrusted: from /proc/PID/cgroup (core/cgroup pickCgroup); '' when not readable. */
  cgroup?: string;
  threads: number;
}

/** The fields of /proc/PID/stat lifetop uses. */
export interface ProcStat {
  pid: number; comm: string; state: string; ppid: number;
  utimeTicks: number; stimeTicks: number; threads: number; startTicks: number;
  /** Field 24: resident pages (statm's second field: both are the kernel's get_mm_rss). */
  rssPages: number;
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
    utimeTicks: field(14), stimeTicks: field(15), threads: field(20), startTicks: field(22), rssPages: field(24),
    exitStatus: fields.length >= 50 && Number.isInteger(field(52)) ? field(52) : null,
  };
  return Number.isInteger(stat.pid) && Number.isInteger(stat.startTicks) ? stat : null;
}

/** This process's effective capabilities (CapEff of /proc/self/status; none when it cannot be read). */
export function effectiveCaps(status = readText('/proc/self/status') ?? ''): bigint {
  const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  return hex ? BigInt('0x' + hex) : 0n;
}

export function hasCap(caps: bigint, bit: number): boolean {
  return ((caps >> BigInt(bit)) & 1n) === 1n;
}

/**
 * Whether this process holds what loading BPF programs takes (CAP_BPF and CAP_PERFMON, or
 * CAP_SYS_ADMIN): a cheap look before anything is loaded.
 */
export function canLoadBpf(status?: string): boolean {
  const caps = effectiveCaps(status);
  return hasCap(caps, 21) || (hasCap(caps, 38) && hasCap(caps, 39)); // CAP_SYS_ADMIN, or CAP_PERFMON and CAP_BPF
}

export function readText(file: string): string | null {
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

export function infoFromStat(stat: ProcStat): ProcInfo | null {
  const { pid } = stat;
  const status = readText(`/proc/${pid}/status`);
  const cmdline = readText(`/proc/${pid}/cmdline`);
  if (status === null || cmdline === null) return null;
  const uid = /^Uid:\s+(\d+)/m.exec(status); // the real uid, as the kernel events report
  const start = stat.startTicks * NS_PER_TICK;
  return {
    pid, ppid: stat.ppid, uid: uid ? Number(uid[1]) : 0, comm: stat.comm, args: splitCmdline(cmdline),
    filename: readExe(pid), start, startedAt: bootTimeMs() + start / 1e6, cgroupId: '0', cgroup: readCgroup(pid),
    threads: stat.threads,
  };
}

/** Where a process runs, from /proc/PID/cgroup: the v2 path, else (hybrid v1) memory's, else cpu's. */
export function readCgroup(pid: number): string {
  const text = readText(`/proc/${pid}/cgroup`);
  if (text === null) return '';
  const p = parseProcCgroup(text);
  return pickCgroup(p.v2, p.memory, p.cpu);
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

export function pids(): number[] {
  let names: string[];
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  return names.filter((n) => /^\d+$/.test(n)).map(Number);
}

/** Cheap scan (stat files only) of every live process. */
export function scanStats(): ProcStat[] {
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

/** The pairing key of a stat line (start in ticks, as the kernel events are keyed). */
export function statKey(stat: ProcStat): string {
  return processKey(stat.pid, stat.startTicks * NS_PER_TICK);
}
