// The exit-reason vocabulary (core/exitReason) and where it shows: the reason keyword, the STATE
// column's short form, the long form of the event log and the details, search and sort by it,
// and a hostile sender's name on screen.
import { describe, expect, it } from 'vitest';
import {
  endingOfEvent, eventReason, EXIT_REASONS, reasonText, rowReason, stateText, type ExitReason,
} from '../../src/core/exitReason';
import type { ExitEvent, KilledBy } from '../../src/core/types';
import { ProcessTable, type ViewOptions } from '../../src/model/processTable';
import { detailsBody } from '../../src/ui/details';
import { eventSegments } from '../../src/ui/logPane';
import { line } from '../../src/ui/text';
import { makeTheme } from '../../src/ui/theme';
import { at, exec, exit, keyOf } from '../support/events';

const KILL: KilledBy = { pid: 4242, comm: 'kill', uid: 1000, kernel: false };
const KERNEL: KilledBy = { pid: 0, comm: '', uid: 0, kernel: true };
const mono = makeTheme({ color: false, ascii: true });

/** [event, reason, STATE short form, long form] */
const CASES: [string, ExitEvent, ExitReason, string, string][] = [
  ['exit 0', exit(10, 1, { code: 0 }), 'ok', 'exit 0', 'exit 0'],
  ['exit 3', exit(10, 1, { code: 3 }), 'code', 'exit 3', 'exit 3'],
  ['command not found', exit(10, 1, { code: 127, comm: 'sh' }), 'code', 'exit 127', 'exit 127 (command not found)'],
  ['not executable', exit(10, 1, { code: 126, comm: 'env' }), 'code', 'exit 126', 'exit 126 (not executable)'],
  ['128+SIGINT', exit(10, 1, { code: 130, comm: 'bash' }), 'code', 'exit 130', 'exit 130 (128+SIGINT, from a shell)'],
  ['128+SIGKILL', exit(10, 1, { code: 137, comm: 'dash' }), 'code', 'exit 137', 'exit 137 (128+SIGKILL, from a shell)'],
  // The same numbers from a program that is no shell mean only what that program means by them.
  ['127 from python', exit(10, 1, { code: 127 }), 'code', 'exit 127', 'exit 127'],
  ['130 from python', exit(10, 1, { code: 130 }), 'code', 'exit 130', 'exit 130'],
  ['130 from env', exit(10, 1, { code: 130, comm: 'env' }), 'code', 'exit 130', 'exit 130'],
  ['255: no signal 127', exit(10, 1, { code: 255 }), 'code', 'exit 255', 'exit 255'],
  ['killed by another process', exit(10, 1, { signal: 15, killedBy: KILL }), 'signal', 'SIGTERM', 'SIGTERM by kill[4242] uid 1000'],
  ['killed by root', exit(10, 1, { signal: 15, killedBy: { pid: 1, comm: 'systemd', uid: 0, kernel: false } }), 'signal', 'SIGTERM',
    'SIGTERM by systemd[1] uid 0'],
  ['killed by itself', exit(10, 1, { signal: 15, killedBy: { ...KILL, pid: 10, comm: 'python3' } }), 'signal', 'SIGTERM', 'SIGTERM by itself'],
  ['a fault', exit(10, 1, { signal: 11, killedBy: KERNEL }), 'signal', 'SIGSEGV', 'SIGSEGV (fault)'],
  ['a fault with a core', exit(10, 1, { signal: 11, core: true, killedBy: KERNEL }), 'core', 'SEGV core', 'SIGSEGV (fault), core dumped'],
  ['abort(3) with a core', exit(10, 1, { signal: 6, core: true, killedBy: { ...KILL, pid: 10 } }), 'core', 'ABRT core',
    'SIGABRT by itself, core dumped'],
  ['the kernel, not a fault', exit(10, 1, { signal: 14, killedBy: KERNEL }), 'signal', 'SIGALRM', 'SIGALRM (kernel)'],
  ['sender not seen', exit(10, 1, { signal: 9 }), 'signal', 'SIGKILL', 'SIGKILL'],
  ['the OOM killer', exit(10, 1, { signal: 9, killedBy: KERNEL, oomRssKb: 412 * 1024 + 100 }), 'oom', 'OOM', 'OOM-killed (412 MiB)'],
  ['the OOM killer, small', exit(10, 1, { signal: 9, killedBy: KERNEL, oomRssKb: 900 }), 'oom', 'OOM', 'OOM-killed (900 KiB)'],
  ['the OOM killer, in a memory cgroup', { ...exit(10, 1, { signal: 9, killedBy: KERNEL }), oom: { rssKb: 2048, memcg: '/jobs/batch' } }, 'oom', 'OOM',
    'OOM-killed (2 MiB) in /jobs/batch'],
  ['a zombie read from /proc', exit(10, 1, { code: 3, inferred: 'zombie' }), 'code', 'Z exit 3', 'zombie, exit 3 (from /proc)'],
  ['a killed zombie', exit(10, 1, { signal: 9, inferred: 'zombie' }), 'signal', 'Z SIGKILL', 'zombie, SIGKILL (from /proc)'],
  ['vanished', exit(10, 1, { inferred: 'vanished' }), 'lost', 'lost', 'exit lost'],
  ['status unknown (/proc polling)', exit(10, 1, { unknownStatus: true }), 'lost', 'exit ?', 'exit ?'],
];

describe('the exit-reason vocabulary', () => {
  it('has the six reasons', () => {
    expect(EXIT_REASONS).toEqual(['ok', 'code', 'signal', 'oom', 'core', 'lost']);
  });

  it.each(CASES)('%s: reason, short form, long form; the same from the event and from its row', (_what, ev, reason, short, long) => {
    expect(eventReason(ev)).toBe(reason);
    expect(reasonText(endingOfEvent(ev))).toBe(long);
    const t = new ProcessTable();
    t.apply([exec(10, 1), ev], at(3));
    const row = t.get(keyOf(10, 1))!;
    expect(rowReason(row)).toBe(reason);
    expect(stateText(row)).toBe(short);
  });

  it('a running row has no reason; a lost one (gone, exit not seen) is lost', () => {
    const t = new ProcessTable();
    t.apply([exec(10, 1), exec(11, 1)], at(2));
    t.reconcile(new Set([keyOf(10, 1)]), at(3));
    expect(rowReason(t.get(keyOf(10, 1))!)).toBeNull();
    expect(stateText(t.get(keyOf(10, 1))!)).toBe('run');
    expect(rowReason(t.get(keyOf(11, 1))!)).toBe('lost');
    expect(stateText(t.get(keyOf(11, 1))!)).toBe('lost');
  });

  it('a kernel exit replacing one inferred from /proc brings its sender', () => {
    const t = new ProcessTable();
    t.apply([exec(10, 1), exit(10, 1, { signal: 15, inferred: 'zombie' })], at(2));
    expect(t.get(keyOf(10, 1))).toMatchObject({ killedBy: null, oomRssKb: null });
    t.apply([exit(10, 1, { signal: 15, killedBy: KILL })], at(3));
    expect(t.get(keyOf(10, 1))).toMatchObject({ killedBy: KILL, exitFromProc: false });
  });
});

describe('where the long form shows', () => {
  it('the event log line names the sender, and a hostile sender name shows as text', () => {
    const segs = eventSegments(exit(10, 1, { signal: 15, killedBy: KILL, endSec: 1.5 }));
    expect(segs.map((s) => s.text).join('')).toMatch(/EXIT 10<-1 python3 SIGTERM by kill\[4242\] uid 1000 after 500ms$/);
    const hostile = exit(10, 1, { signal: 15, killedBy: { ...KILL, comm: 'k\u001b[2J\u0007{red-bg}\u009b' } });
    const shown = line(eventSegments(hostile), 200, mono);
    expect(shown).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(shown).toContain('SIGTERM by k\\x1b[2J\\x07{open}red-bg{close}\\x9b[4242] uid 1000');
    const oom = eventSegments(exit(10, 1, { signal: 9, killedBy: KERNEL, oomRssKb: 412 * 1024 }));
    expect(oom.map((s) => s.text).join('')).toContain(' OOM-killed (412 MiB) after ');
  });

  it('the details popup: the long form in Status and the reason keyword; a hostile sender sanitized', () => {
    const t = new ProcessTable();
    const hostileComm = 'k\u001b]0;x\u0007ill';
    t.apply([exec(10, 1), exit(10, 1, { signal: 15, killedBy: { ...KILL, comm: hostileComm }, endSec: 2 })], at(3));
    const row = t.get(keyOf(10, 1))!;
    const body = detailsBody(row, [row], 120, at(3)).map((segs) => line(segs, 120, mono));
    const text = body.join('\n').replace(/\{\/?bold\}/g, ''); // the mono theme's only tag
    expect(text).toMatch(/Status\s+SIGTERM by k\\x1b]0;x\\x07ill\[4242\] uid 1000 after \S+ at /);
    expect(text).toMatch(/Reason\s+signal\s/);
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  });
});

describe('search and sort by why it ended', () => {
  function table(): ProcessTable {
    const t = new ProcessTable();
    t.apply([
      exec(1, 1), exec(2, 1), exec(3, 1), exec(4, 1), exec(5, 1), exec(6, 1), exec(7, 1), exec(8, 1),
      exit(2, 1, { signal: 9, killedBy: KERNEL, oomRssKb: 65536 }),
      exit(3, 1, { signal: 9, killedBy: KILL }),
      exit(4, 1, { signal: 11, core: true, killedBy: KERNEL }),
      exit(5, 1, { code: 3 }),
      exit(6, 1, { code: 0 }),
      exit(7, 1, { signal: 15, killedBy: { pid: 99, comm: 'supervisord', uid: 0, kernel: false } }),
    ], at(3));
    t.reconcile(new Set([keyOf(1, 1), keyOf(2, 1), keyOf(3, 1), keyOf(4, 1), keyOf(5, 1), keyOf(6, 1), keyOf(7, 1)]), at(4));
    return t;
  }
  const pids = (t: ProcessTable, o: Partial<ViewOptions>) => t.view({
    sort: { column: 'pid', descending: false }, query: '', showExited: true, ...o,
  }, at(5)).map((r) => r.pid);

  it('finds rows by reason keyword, signal, sender and OOM', () => {
    const t = table();
    expect(pids(t, { query: 'oom' })).toEqual([2]);
    expect(pids(t, { query: 'sigkill' })).toEqual([3]); // the OOM kill says OOM, not SIGKILL
    expect(pids(t, { query: 'by kill[4242]' })).toEqual([3]);
    expect(pids(t, { query: 'supervisord' })).toEqual([7]);
    expect(pids(t, { query: 'fault' })).toEqual([4]);
    expect(pids(t, { query: 'core' })).toEqual([4]);
    expect(pids(t, { query: 'lost' })).toEqual([8]);
    expect(pids(t, { query: 'exit 3' })).toEqual([5]);
  });

  it('search follows a row whose end becomes known after the search was cached', () => {
    const t = new ProcessTable();
    t.apply([exec(1, 1)], at(2));
    expect(pids(t, { query: 'oom' })).toEqual([]);
    t.apply([exit(1, 1, { signal: 9, killedBy: KERNEL, oomRssKb: 1000 })], at(3));
    expect(pids(t, { query: 'oom' })).toEqual([1]);
  });

  it('sorts STATE as running, lost, then ok, code, signal, core, oom', () => {
    expect(pids(table(), { sort: { column: 'state', descending: false } })).toEqual([1, 8, 6, 5, 3, 7, 4, 2]);
    expect(pids(table(), { sort: { column: 'state', descending: true } })).toEqual([2, 4, 7, 3, 5, 6, 8, 1]);
  });
});
