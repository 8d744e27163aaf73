// Event log pane: recent lifecycle events, newest at the bottom, scrollable back through the model's
// bounded EventLog; only the visible window is turned into text.

import type { StreamRecord } from '../core/types';
import { clockText, formatLifetime } from '../core/format';
import { endingOfEvent, reasonText } from '../core/exitReason';
import { interner } from '../core/intern';
import { line, type Segment } from './text';
import type { Theme } from './theme';

/** One event as styled segments: time, kind, child<-parent, comm, then args or exit status. */
export function eventSegments(ev: StreamRecord): Segment[] {
  const time = { text: clockText(ev.time, 'HH:mm:ss.SSS') + ' ' };
  switch (ev.type) {
    case 'exec': {
      const args = ev.args.length > 0 ? ev.args.join(' ') : ev.filename;
      const how = ev.recovered ? ' (recovered from /proc)' : '';
      return [time, { text: 'EXEC', style: 'exec' }, { text: ` ${ev.pid}<-${ev.ppid} ` }, { text: ev.comm, style: 'title' },
        { text: ` ${args}${ev.argsTruncated ? ' ...' : ''}${how}` }];
    }
    case 'lost':
      return [time, { text: 'LOST', style: 'alert' }, { text: ` ${ev.count} ${LOST_WHAT[ev.stage]}: healing from /proc` }];
    case 'exit':
      return [time, { text: 'EXIT', style: 'exit' }, { text: ` ${ev.pid}<-${ev.ppid} ` }, { text: ev.comm, style: 'title' },
        { text: ` ${reasonText(endingOfEvent(ev))} after ${formatLifetime(ev.durationMs)}` }];
    case 'fork':
      return [time, { text: 'FORK', style: 'fork' }, { text: ` ${ev.childPid}<-${ev.pid} ` }, { text: ev.comm, style: 'title' }];
  }
}

const LOST_WHAT = {
  kernel_ring: 'events (kernel ring buffer full)',
  addon_queue: 'events (reader queue full)',
  traced_map: 'processes not followed (traced set full)',
} as const;

/** A log line: the newest event of a run of identical ones, and how many the run holds. */
export interface LogLine {
  ev: StreamRecord;
  /** Folded: the exit that came right after this exec, shown on its line. */
  exit?: StreamRecord;
  count: number;
}

/**
 * The log is folded again whenever it grows (10 times a second in a storm) but its events never
 * change, and each fold's window is the last one moved on (dropped at the head, added at the
 * tail). So what folding compares of each entry, its `sameness`, is taken from the last fold by
 * position (two arrays used in turn, no allocation a fold) and worked out only for new entries; the
 * strings are shared between entries that read the same. Nothing is kept per event: in a storm
 * the log's 2 000 entries live long enough to reach V8's old generation, and whatever they pinned
 * went there with them.
 */
let lastEntries: readonly StreamRecord[] = [];
let lastSame: string[] = [];
let spareSame: string[] = [];
const shared = interner();

function samenessOfAll(entries: readonly StreamRecord[]): string[] {
  const n = entries.length;
  const out = spareSame;
  out.length = n;
  const off = n > 0 ? lastEntries.indexOf(entries[0]) : -1;
  for (let i = 0; i < n; i++) {
    const j = off < 0 ? -1 : off + i;
    if (j >= 0 && j < lastEntries.length && lastEntries[j] === entries[i]) {
      out[i] = lastSame[j];
      continue;
    }
    out[i] = shared(sameness(entries[i]));
  }
  spareSame = lastSame;
  lastSame = out;
  lastEntries = entries;
  return out;
}

/** The same process (pid and start): an exec and the exit right after it share a line. */
function sameProcess(a: StreamRecord, b: StreamRecord): boolean {
  return a.type !== 'lost' && b.type !== 'lost' && a.pid === b.pid && a.start === b.start;
}

/**
 * The processes that exec'd in the window, by start time (then pid: two processes can start in the
 * same nanosecond on two CPUs, and then the pids are kept as a list).
 */
function execsOf(entries: readonly StreamRecord[]): (pid: number, start: number) => boolean {
  const byStart = new Map<number, number | number[]>();
  for (const ev of entries) {
    if (ev.type !== 'exec') continue;
    const had = byStart.get(ev.start);
    if (had === undefined) byStart.set(ev.start, ev.pid);
    else if (Array.isArray(had)) had.push(ev.pid);
    else if (had !== ev.pid) byStart.set(ev.start, [had, ev.pid]);
  }
  return (pid, start) => {
    const had = byStart.get(start);
    return had === pid || (Array.isArray(had) && had.includes(pid));
  };
}

/** What makes two events the same line when folded: what ran and how it ended, not pids or times. */
function sameness(ev: StreamRecord): string {
  switch (ev.type) {
    case 'exec': return `exec\0${ev.comm}\0${ev.args.join('\0')}`;
    case 'exit': return `exit\0${ev.comm}\0${reasonText(endingOfEvent(ev))}`;
    case 'fork': return `fork\0${ev.comm}`;
    case 'lost': return `lost\0${ev.stage}\0${ev.time}`; // every loss stays a line of its own
  }
}

/**
 * exectop's folding, for the log: a fork whose child then execs says nothing the EXEC line does not
 * (child<-parent); and a run of the same command again and again (same args, same ending: an exit
 * right after its exec is part of it) becomes one line with its count, at the newest.
 * One pass over the entries, no copies of them: it runs every frame of a storm.
 */
export function collapseRuns(entries: readonly StreamRecord[]): LogLine[] {
  const n = entries.length;
  const same = samenessOfAll(entries);
  const execd = execsOf(entries);
  const hidden = (i: number): boolean => {
    const ev = entries[i];
    return ev.type === 'fork' && execd(ev.childPid, ev.childStart);
  };
  const out: LogLine[] = [];
  // The current run: what its lines are the same in (the exec's, and its exit's when paired).
  let runSame = '';
  let runExitSame: string | null = null;
  const close = (): void => {
    // An exec and its exit share a line only in a run: alone, each keeps its own line.
    const l = out[out.length - 1];
    if (l?.count === 1 && l.exit) {
      out[out.length - 1] = { ev: l.ev, count: 1 };
      out.push({ ev: l.exit, count: 1 });
    }
  };
  let next = 0;
  while (next < n && hidden(next)) next++;
  while (next < n) {
    const i = next;
    next = i + 1;
    while (next < n && hidden(next)) next++;
    const ev = entries[i];
    let exit: StreamRecord | undefined;
    let exitSame: string | null = null;
    if (ev.type === 'exec' && next < n && entries[next].type === 'exit' && sameProcess(entries[next], ev)) {
      exit = entries[next];
      exitSame = same[next];
      next++;
      while (next < n && hidden(next)) next++;
    }
    const run = out[out.length - 1];
    if (run && same[i] === runSame && exitSame === runExitSame) {
      run.ev = ev;
      run.exit = exit;
      run.count++;
    } else {
      close();
      out.push(exit ? { ev, count: 1, exit } : { ev, count: 1 });
      runSame = same[i];
      runExitSame = exitSame;
    }
  }
  close();
  return out;
}

/**
 * A title line and the window of entries ending `scrollFromBottom` entries before the newest.
 * `entries` is oldest first, as EventLog.entries() returns it.
 */
export function renderLog(
  entries: readonly (LogLine | StreamRecord)[], scrollFromBottom: number, width: number, height: number,
  focused: boolean, theme: Theme,
): string {
  const g = theme.glyphs;
  const rows = Math.max(0, height - 1);
  const end = Math.max(0, entries.length - Math.max(0, scrollFromBottom));
  const start = Math.max(0, end - rows);
  const where = scrollFromBottom > 0 ? ` ${scrollFromBottom} newer below ` : '';
  const title = line([
    { text: g.hline.repeat(2) + ' ' },
    { text: 'Events', style: focused ? 'selected' : 'title' },
    { text: ` ${entries.length} ${where}${g.hline.repeat(width)}` },
  ], width, theme);
  const out = [title];
  for (let i = start; i < end; i++) {
    const entry = entries[i];
    const { ev, exit, count }: LogLine = 'ev' in entry ? entry : { ev: entry, count: 1 };
    const segs = eventSegments(ev);
    if (exit?.type === 'exit') segs.push({ text: ` -> ${reasonText(endingOfEvent(exit))} after ${formatLifetime(exit.durationMs)}`, style: 'exit' });
    if (count > 1) segs.push({ text: ` x${count}`, style: 'key' });
    out.push(line(segs, width, theme));
  }
  return out.join('\n');
}
