import { describe, expect, it } from 'vitest';
import { EventLog } from '../../src/model/eventLog';
import type { LostRecord, StreamRecord } from '../../src/core/types';
import { collapseRuns } from '../../src/ui/logPane';
import { at, exec, exit, fork } from '../support/events';

const evs = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => exec(from + i, 1));
const pids = (log: EventLog) => log.entries().map((e) => (e.type === 'lost' ? -1 : e.pid));

describe('EventLog', () => {
  it('keeps events oldest first', () => {
    const log = new EventLog(10);
    log.push(evs(1, 4));
    log.push(evs(4, 6));
    expect(pids(log)).toEqual([1, 2, 3, 4, 5]);
    expect(log.size).toBe(5);
  });

  it('drops the oldest beyond capacity, across batches', () => {
    const log = new EventLog(4);
    log.push(evs(1, 4));
    log.push(evs(4, 7));
    expect(pids(log)).toEqual([3, 4, 5, 6]);
    log.push(evs(7, 8));
    expect(pids(log)).toEqual([4, 5, 6, 7]);
    expect(log.size).toBe(4);
  });

  it('keeps the newest of a batch larger than the ring', () => {
    const log = new EventLog(3);
    log.push(evs(1, 2));
    log.push(evs(10, 20));
    expect(pids(log)).toEqual([17, 18, 19]);
  });

  it('stays bounded over many pushes', () => {
    const log = new EventLog(2000);
    for (let i = 0; i < 500; i++) log.push(evs(i * 10, i * 10 + 10));
    expect(log.size).toBe(2000);
    expect(pids(log)[0]).toBe(3000);
    expect(pids(log)[1999]).toBe(4999);
  });

  it('moves the version only when something was pushed', () => {
    const log = new EventLog();
    const v = log.version;
    log.push([]);
    expect(log.version).toBe(v);
    log.push(evs(1, 2));
    expect(log.version).toBeGreaterThan(v);
  });

  it('keeps lost records in order among the events', () => {
    const log = new EventLog(4);
    const lost: LostRecord = { type: 'lost', time: at(3), stage: 'kernel_ring', count: 9, since: at(2), until: at(3) };
    log.push([...evs(1, 3), lost, ...evs(3, 5)]);
    expect(pids(log)).toEqual([2, -1, 3, 4]);
    expect(log.entries()[1]).toBe(lost);
  });

  it('rejects a capacity below one', () => {
    expect(() => new EventLog(0)).toThrow(/at least 1/);
  });
});

const pidOf = (r: StreamRecord | undefined): number | undefined => (r && r.type !== 'lost' ? r.pid : undefined);

describe('collapseRuns (the log folded)', () => {
  it('shows a run of the same command once with its count, at the newest; other events break the run', () => {
    const same = (pid: number) => exec(pid, pid, { comm: 'curl', args: ['curl', '-s', 'http://x'] });
    const lines = collapseRuns([same(1), same(2), same(3), exec(9, 9, { comm: 'ls', args: ['ls'] }), same(4)]);
    expect(lines.map((l) => [l.ev.type, pidOf(l.ev), l.count])).toEqual([['exec', 3, 3], ['exec', 9, 1], ['exec', 4, 1]]);
    // Different exits (another code) are different lines.
    const exits = collapseRuns([exit(1, 1, { code: 0 }), exit(2, 2, { code: 0 }), exit(3, 3, { code: 1 })]);
    expect(exits.map((l) => l.count)).toEqual([2, 1]);
  });

  it('drops forks whose child exec\'d, joins an exit to the exec right before it, then counts the repeats', () => {
    const run = (pid: number, code = 0) => [
      fork(100, 1, pid, pid, { comm: 'python3' }),
      exec(pid, pid, { ppid: 100, comm: 'true', args: ['/bin/true'] }),
      exit(pid, pid, { ppid: 100, comm: 'true', code }),
    ];
    const lines = collapseRuns([...run(2), ...run(3), ...run(4), ...run(5, 1), fork(100, 1, 6, 6)]);
    expect(lines.map((l) => [l.ev.type, pidOf(l.ev), pidOf(l.exit), l.count])).toEqual([
      ['exec', 4, 4, 3],
      ['exec', 5, undefined, 1], ['exit', 5, undefined, 1], // not a run: exec and exit keep their lines
      ['fork', 100, undefined, 1], // a fork without exec stays
    ]);
  });

  it('folds a window that moves on (keys reused from the last fold) as it folds the same events afresh', () => {
    // A storm of three commands from two interleaving workers, some forks never exec'ing, exits
    // out of order; each window is the last one moved on, as the EventLog's entries() are.
    let seed = 11;
    const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    const stream: StreamRecord[] = [];
    const pending: StreamRecord[] = [];
    for (let pid = 2; stream.length < 3000; pid++) {
      const cmd = ['true', 'false', 'ls'][rnd(3)];
      stream.push(fork(100, 1, pid, pid, { comm: 'storm' }));
      if (rnd(10) === 0) continue;
      pending.push(exec(pid, pid, { ppid: 100, comm: cmd, args: [`/bin/${cmd}`] }), exit(pid, pid, { ppid: 100, comm: cmd, code: cmd === 'false' ? 1 : 0 }));
      while (pending.length > 0 && rnd(3) !== 0) stream.push(pending.shift()!);
    }
    const copy = (r: StreamRecord): StreamRecord => structuredClone(r);
    const shape = (lines: ReturnType<typeof collapseRuns>) => lines.map((l) => [l.ev.type, pidOf(l.ev), pidOf(l.exit), l.count]);
    for (let head = 0; head + 500 <= stream.length; head += 1 + rnd(90)) {
      const window = stream.slice(head, head + 300 + rnd(200));
      expect(shape(collapseRuns(window))).toEqual(shape(collapseRuns(window.map(copy))));
      expect(shape(collapseRuns(window))).toEqual(shape(foldedAfresh(window)));
    }
  });
});

/** The fold as first written (one filter, then one walk, keys worked out each time): what it must still give. */
function foldedAfresh(entries: StreamRecord[]): { ev: StreamRecord; exit?: StreamRecord; count: number }[] {
  const proc = (ev: StreamRecord) => (ev.type === 'lost' ? '' : `${ev.pid}:${ev.start}`);
  const same = (ev: StreamRecord) => (ev.type === 'exec' ? `exec ${ev.comm} ${ev.args.join(' ')}`
    : ev.type === 'exit' ? `exit ${ev.comm} ${ev.exitCode}` : `${ev.type} ${ev.type === 'lost' ? ev.time : ev.comm}`);
  const execd = new Set(entries.filter((ev) => ev.type === 'exec').map(proc));
  const kept = entries.filter((ev) => ev.type !== 'fork' || !execd.has(`${ev.childPid}:${ev.childStart}`));
  const out: { ev: StreamRecord; exit?: StreamRecord; count: number; key: string }[] = [];
  for (let i = 0; i < kept.length; i++) {
    const ev = kept[i];
    const exit = ev.type === 'exec' && kept[i + 1]?.type === 'exit' && proc(kept[i + 1]) === proc(ev) ? kept[++i] : undefined;
    const key = same(ev) + (exit ? ' | ' + same(exit) : '');
    const run = out[out.length - 1];
    if (run?.key === key) Object.assign(run, { ev, exit, count: run.count + 1 });
    else out.push({ ev, exit, count: 1, key });
  }
  return out.flatMap((l) => (l.count === 1 && l.exit ? [{ ev: l.ev, count: 1 }, { ev: l.exit, count: 1 }] : [{ ev: l.ev, exit: l.exit, count: l.count }]));
}
