// CPU% and RSS of running processes, sampled from /proc once a second for the table.

import * as fs from 'node:fs';
import { NS_PER_TICK, processKey } from '../core/types';
import { bootTimeMs, ProcStat, readStat, TICKS_PER_SEC } from './procfs';

let pageKb: number | undefined;

/**
 * stat counts resident pages. Node's os module does not expose the page size, so read it from our own
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
      const cpuTicks = stat.utimeTicks + stat.stimeTicks;
      const before = this.prev.get(key);
      next.set(key, { cpuTicks, at: now });
      const cpuPct = before ? cpuPercent(cpuTicks - before.cpuTicks, now - before.at) : this.sinceStart(cpuTicks, stat, now);
      out.set(key, {
        cpuPct: Math.round(cpuPct * 10) / 10, // the precision top shows; finer is noise from tick sampling
        rssKb: stat.rssPages * pageSizeKb(), // from stat itself: one read a process a second, not two
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
