import { rowAgeMs } from '../../src/core/format';
import { describe, expect, it } from 'vitest';
import { ProcessRow, ProcessTable, SORT_COLUMNS, SortColumn, treeDepth, ViewOptions } from '../../src/model/processTable';
import { NS_PER_TICK, processKey } from '../../src/core/types';
import { at, BOOT_MS, exec, exit, fork, keyOf, startNs } from '../support/events';

const ALL: ViewOptions = { sort: { column: 'pid', descending: false }, query: '', showExited: true };

function pids(rows: readonly ProcessRow[]): number[] {
  return rows.map((r) => r.pid);
}

describe('pairing', () => {
  it('pairs an exit with its exec by (pid, start)', () => {
    const t = new ProcessTable();
    t.apply([exec(100, 10, { args: ['python3', 'job.py'] })], at(10));
    t.apply([exit(100, 10, { code: 3, endSec: 12.5 })], at(12.5));
    const row = t.get(keyOf(100, 10))!;
    expect(row.state).toBe('exited');
    expect(row.exitCode).toBe(3);
    expect(row.signal).toBe(0);
    expect(row.exitedAt).toBe(at(12.5));
    expect(row.lifetimeMs).toBeCloseTo(2500, 0);
    expect(row.label).toBe('job.py');
    expect(t.counts()).toEqual({ running: 0, exited: 1, lost: 0, total: 1 });
  });

  it('counts rows per state through every change a row goes through, as a walk over the rows would', () => {
    const t = new ProcessTable({ retentionMs: 1000, maxRows: 4 });
    const walk = () => {
      const c = { running: 0, exited: 0, lost: 0, total: 0 };
      for (const row of t.view(ALL, at(0))) { c[row.state]++; c.total++; }
      return c;
    };
    t.apply([exec(1, 1), exec(2, 1), fork(2, 1, 3, 1.5), exit(4, 1)], at(2)); // an exit before its exec
    expect(t.counts()).toEqual(walk());
    t.apply([exit(1, 1, { inferred: 'zombie' }), exec(4, 1)], at(2));
    t.apply([exit(1, 1, { code: 2 })], at(2)); // the kernel's word replaces the inference
    expect(t.reconcile(new Set([keyOf(3, 1.5)]), at(3))).toBe(1); // pid 2 is gone
    expect(t.counts()).toEqual(walk());
    expect(t.counts()).toMatchObject({ running: 1, exited: 2, lost: 1, total: 4 });
    t.apply([exec(5, 2), exec(6, 2)], at(3)); // over maxRows: the oldest ended rows go
    expect(t.counts()).toEqual(walk());
    t.expire(at(10));
    expect(t.counts()).toEqual({ running: 3, exited: 0, lost: 0, total: 3 });
    expect(t.counts()).toEqual(walk());
  });

  it('pairs a /proc-seeded row (tick precision) with the kernel exit (ns precision)', () => {
    const t = new ProcessTable();
    const seededStart = Math.floor(startNs(50) / NS_PER_TICK) * NS_PER_TICK;
    const seed = { ...exec(200, 50, { seeded: true }), start: seededStart };
    t.apply([seed], at(60));
    t.apply([exit(200, 50, { signal: 15, endSec: 61 })], at(61));
    expect(t.counts().total).toBe(1);
    const row = t.get(processKey(200, seededStart))!;
    expect(row.seeded).toBe(true);
    expect(row.state).toBe('exited');
    expect(row.signal).toBe(15);
  });

  it('records a signal and a core dump', () => {
    const t = new ProcessTable();
    t.apply([exec(7, 1), exit(7, 1, { signal: 11, core: true })], at(2));
    expect(t.get(keyOf(7, 1))).toMatchObject({ state: 'exited', signal: 11, coreDumped: true });
  });

  it('leaves exit code and signal unknown when the source cannot know them', () => {
    const t = new ProcessTable();
    t.apply([exec(8, 1), exit(8, 1, { unknownStatus: true })], at(2));
    expect(t.get(keyOf(8, 1))).toMatchObject({ state: 'exited', exitCode: null, signal: null });
  });

  it('takes the user name from the option', () => {
    const t = new ProcessTable({ userName: (uid) => (uid === 1000 ? 'alice' : `#${uid}`) });
    t.apply([exec(1, 1, { uid: 1000 }), exec(2, 1, { uid: 0 })], at(2));
    expect(t.get(keyOf(1, 1))!.user).toBe('alice');
    expect(t.get(keyOf(2, 1))!.user).toBe('#0');
    expect(new ProcessTable().view(ALL, 0)).toEqual([]);
    const plain = new ProcessTable();
    plain.apply([exec(3, 1, { uid: 42 })], at(2));
    expect(plain.get(keyOf(3, 1))!.user).toBe('42');
  });
});

describe('exec in place', () => {
  it('updates the row instead of adding a process', () => {
    const t = new ProcessTable();
    t.apply([exec(300, 5, { comm: 'bash', filename: '/usr/bin/bash', args: ['bash', 'run.sh'] })], at(5));
    const first = t.get(keyOf(300, 5))!;
    t.apply([exec(300, 5, { comm: 'python3', args: ['python3', '-m', 'http.server'], time: at(6) })], at(6));
    expect(t.counts().total).toBe(1);
    const row = t.get(keyOf(300, 5))!;
    expect(row).toBe(first);
    expect(row.comm).toBe('python3');
    expect(row.filename).toBe('/usr/bin/python3.11');
    expect(row.args).toEqual(['python3', '-m', 'http.server']);
    expect(row.label).toBe('-m http.server');
    expect(row.firstSeenAt).toBe(at(5));
  });

  it('does not let a late /proc seed overwrite what the kernel reported', () => {
    const t = new ProcessTable();
    t.apply([exec(301, 5, { args: ['python3', 'real.py'] })], at(5));
    t.apply([exec(301, 5, { args: ['python3', 'stale.py'], seeded: true })], at(6));
    expect(t.get(keyOf(301, 5))!.args).toEqual(['python3', 'real.py']);
    expect(t.get(keyOf(301, 5))!.seeded).toBe(false);
  });
});

describe('fork', () => {
  it('creates the child from the parent row, with its start time', () => {
    const t = new ProcessTable();
    t.apply([exec(400, 10, { args: ['python3', '-u', 'jobs.py'] })], at(10));
    t.apply([fork(400, 10, 401, 12.25)], at(12.25));
    const child = t.get(keyOf(401, 12.25))!;
    expect(child).toMatchObject({ pid: 401, ppid: 400, comm: 'python3', args: ['python3', '-u', 'jobs.py'], label: 'jobs.py', state: 'running' });
    expect(child.startedAt).toBeCloseTo(BOOT_MS + startNs(12.25) / 1e6, 6);
  });

  it('uses the fork event comm when the parent is unknown', () => {
    const t = new ProcessTable();
    t.apply([fork(500, 1, 501, 2, { comm: 'gunicorn' })], at(2));
    expect(t.get(keyOf(501, 2))).toMatchObject({ comm: 'gunicorn', label: 'gunicorn', args: [], ppid: 500 });
  });
});

describe('out of order', () => {
  it('an exit before its exec creates an exited row that the exec fills in but does not resurrect', () => {
    const t = new ProcessTable();
    t.apply([exit(600, 3, { code: 2, comm: 'python3', ppid: 42 })], at(4));
    expect(t.get(keyOf(600, 3))).toMatchObject({ state: 'exited', exitCode: 2, args: [], label: 'python3', ppid: 42 });
    t.apply([exec(600, 3, { args: ['python3', 'late.py'], ppid: 42 })], at(4));
    const row = t.get(keyOf(600, 3))!;
    expect(row.state).toBe('exited');
    expect(row.exitCode).toBe(2);
    expect(row.args).toEqual(['python3', 'late.py']);
    expect(row.label).toBe('late.py');
    expect(t.counts()).toMatchObject({ running: 0, exited: 1, total: 1 });
  });

  it("a child's exec before its parent's fork keeps the exec's comm and args", () => {
    const t = new ProcessTable();
    t.apply([exec(700, 1, { args: ['python3', 'parent.py'] })], at(1));
    t.apply([exec(701, 2, { ppid: 700, comm: 'sh', filename: '/bin/sh', args: ['sh', '-c', 'true'] })], at(2));
    t.apply([fork(700, 1, 701, 2)], at(2));
    expect(t.counts().total).toBe(2);
    expect(t.get(keyOf(701, 2))).toMatchObject({ comm: 'sh', args: ['sh', '-c', 'true'], label: 'sh -c true' });
  });

  it('ignores a duplicate exit', () => {
    const t = new ProcessTable();
    t.apply([exec(800, 1), exit(800, 1, { code: 1 }), exit(800, 1, { code: 9 })], at(3));
    expect(t.get(keyOf(800, 1))!.exitCode).toBe(1);
  });
});

describe('pid reuse', () => {
  it('keeps two rows and never lets events for one touch the other', () => {
    const t = new ProcessTable();
    t.apply([exec(900, 1, { args: ['python3', 'old.py'] }), exit(900, 1, { code: 1, endSec: 2 })], at(2));
    t.apply([exec(900, 5, { args: ['python3', 'new.py'] })], at(5));
    t.apply([exit(900, 5, { code: 0, endSec: 6 })], at(6));
    expect(t.counts().total).toBe(2);
    expect(t.get(keyOf(900, 1))).toMatchObject({ label: 'old.py', exitCode: 1 });
    expect(t.get(keyOf(900, 5))).toMatchObject({ label: 'new.py', exitCode: 0 });
  });

  it('a new process on a running ghost pid does not change the ghost', () => {
    const t = new ProcessTable();
    t.apply([exec(901, 1, { args: ['python3', 'ghost.py'] })], at(1));
    t.apply([exec(901, 9, { args: ['python3', 'next.py'] }), exit(901, 9, { code: 4, endSec: 10 })], at(10));
    expect(t.get(keyOf(901, 1))).toMatchObject({ state: 'running', exitCode: null, label: 'ghost.py' });
  });
});

describe('retention and bound', () => {
  it('drops ended rows older than the retention and keeps running ones', () => {
    const t = new ProcessTable({ retentionMs: 10_000 });
    t.apply([exec(1, 1), exec(2, 1), exit(2, 1, { endSec: 2 })], at(2));
    t.reconcile(new Set([keyOf(1, 1)]), at(3));
    t.apply([exec(3, 4), exit(3, 4, { endSec: 5 })], at(5));
    t.expire(at(11));
    expect(t.counts().total).toBe(3);
    t.expire(at(12));
    expect(t.get(keyOf(2, 1))).toBeUndefined();
    expect(t.counts().total).toBe(2);
    t.expire(at(16));
    expect(pids(t.view(ALL, at(16)))).toEqual([1]);
  });

  it('expires thousands of ended rows in the order they ended, also those that ended twice', () => {
    // More rows than the expiry queue first holds, after some have come and gone (so it wraps),
    // ending one by one, and a third of them lost first and then reported by the kernel (ended
    // again: their expiry counts from the second end).
    const t = new ProcessTable({ retentionMs: 10_000, maxRows: 1e6 });
    for (let pid = 1; pid <= 700; pid++) t.apply([exec(pid, 1), exit(pid, 1, { endSec: 1.5 })], at(1.5));
    t.expire(at(12));
    expect(t.counts().total).toBe(0);
    const N = 3000;
    const start = (i: number) => 2 + i / 1000;
    t.apply(Array.from({ length: N }, (_, i) => exec(1000 + i, start(i))), at(5));
    const alive = new Set(Array.from({ length: N }, (_, i) => i).filter((i) => i % 3 !== 0).map((i) => keyOf(1000 + i, start(i))));
    expect(t.reconcile(alive, at(5.5))).toBe(N / 3);
    for (let i = 0; i < N; i++) t.apply([exit(1000 + i, start(i), { code: 0, endSec: 6 + i / 1000 })], at(6 + i / 1000));
    expect(t.counts()).toEqual({ running: 0, exited: N, lost: 0, total: N });
    for (const k of [0, 999, 1500, 2998]) {
      t.expire(at(16 + k / 1000)); // rows 0..k ended 10 s before
      expect(t.counts().total, `after ${k}`).toBe(N - k - 1);
      expect(t.get(keyOf(1000 + k + 1, start(k + 1)))?.state).toBe('exited');
    }
    t.expire(at(30));
    expect(t.counts().total).toBe(0);
  });

  it('measures retention from when the row ended in table time, not the recorded exit time', () => {
    const t = new ProcessTable({ retentionMs: 10_000 });
    t.apply([exec(1, 1), exit(1, 1, { endSec: 2 })], at(1000));
    t.expire(at(1005));
    expect(t.counts().exited).toBe(1);
  });

  it('enforces maxRows by dropping the oldest ended rows first', () => {
    const t = new ProcessTable({ maxRows: 50, retentionMs: 1e12 });
    t.apply([exec(1, 0.5)], at(1));
    for (let i = 0; i < 200; i++) t.apply([exec(1000 + i, 1 + i), exit(1000 + i, 1 + i)], at(2 + i));
    expect(t.counts().total).toBe(50);
    expect(t.get(keyOf(1, 0.5))!.state).toBe('running');
    const kept = t.view(ALL, at(300)).filter((r) => r.state === 'exited');
    expect(Math.min(...pids(kept))).toBe(1000 + 200 - 49);
  });

  it('stays bounded over 200 000 short-lived processes', () => {
    const maxRows = 5000;
    const t = new ProcessTable({ maxRows, retentionMs: 10_000 });
    let peak = 0;
    for (let i = 0; i < 200_000; i++) {
      const sec = 100 + i * 0.001; // 1000 processes per second, pids wrap and get reused
      const pid = 300 + (i % 30_000);
      t.apply([exec(pid, sec, { ppid: 1 }), exit(pid, sec, { endSec: sec + 0.0005 })], at(sec));
      if (i % 1000 === 0) t.expire(at(sec));
      if (i % 97 === 0) peak = Math.max(peak, t.counts().total);
    }
    expect(peak).toBeLessThanOrEqual(maxRows);
    t.expire(at(100 + 200 + 11));
    expect(t.counts().total).toBe(0);
  });
});

describe('reconcile', () => {
  it('marks running rows missing from /proc as lost and counts them', () => {
    const t = new ProcessTable();
    t.apply([exec(1, 1), exec(2, 1), exec(3, 1), exit(3, 1)], at(2));
    const lost = t.reconcile(new Set([keyOf(1, 1)]), at(5));
    expect(lost).toBe(1);
    expect(t.get(keyOf(1, 1))!.state).toBe('running');
    expect(t.get(keyOf(2, 1))).toMatchObject({ state: 'lost', exitedAt: at(5), exitCode: null });
    expect(t.get(keyOf(3, 1))!.state).toBe('exited');
    expect(t.counts()).toEqual({ running: 1, exited: 1, lost: 1, total: 3 });
    expect(t.reconcile(new Set([keyOf(1, 1)]), at(6))).toBe(0);
  });

  it('does not judge rows that entered the table after the scan', () => {
    const t = new ProcessTable();
    t.apply([exec(1, 1)], at(10));
    expect(t.reconcile(new Set(), at(9))).toBe(0);
    expect(t.get(keyOf(1, 1))!.state).toBe('running');
  });

  it('a late exit turns a lost row into an exited one', () => {
    const t = new ProcessTable();
    t.apply([exec(1, 1)], at(1));
    t.reconcile(new Set(), at(5));
    t.apply([exit(1, 1, { code: 7, endSec: 4 })], at(6));
    expect(t.get(keyOf(1, 1))).toMatchObject({ state: 'exited', exitCode: 7 });
  });
});

describe('exits inferred from /proc', () => {
  it('a zombie exit ends the row with the status /proc gave, flagged as read from /proc', () => {
    const t = new ProcessTable();
    t.apply([exec(1, 1)], at(1));
    t.apply([exit(1, 1, { code: 3, inferred: 'zombie', endSec: 4 })], at(4));
    expect(t.get(keyOf(1, 1))).toMatchObject({ state: 'exited', exitCode: 3, signal: 0, exitFromProc: true, exitedAt: at(4) });
    expect(t.counts()).toEqual({ running: 0, exited: 1, lost: 0, total: 1 });
  });

  it('a zombie whose status could not be read leaves code and signal unknown', () => {
    const t = new ProcessTable();
    t.apply([exec(1, 1), exit(1, 1, { inferred: 'zombie', unknownStatus: true })], at(4));
    expect(t.get(keyOf(1, 1))).toMatchObject({ state: 'exited', exitCode: null, signal: null, exitFromProc: true });
  });

  it('a vanished process is lost, its status unknown whatever the event carries', () => {
    const t = new ProcessTable();
    t.apply([exec(1, 1)], at(1));
    t.apply([exit(1, 1, { code: 5, signal: 9, inferred: 'vanished', endSec: 4 })], at(4));
    expect(t.get(keyOf(1, 1))).toMatchObject({ state: 'lost', exitCode: null, signal: null, exitFromProc: false, exitedAt: at(4) });
    expect(t.counts()).toEqual({ running: 0, exited: 0, lost: 1, total: 1 });
  });

  it('a seeded exit of an unknown process creates an ended, seeded row', () => {
    const t = new ProcessTable();
    t.apply([exit(1, 1, { code: 2, inferred: 'zombie', seeded: true })], at(4));
    expect(t.get(keyOf(1, 1))).toMatchObject({ state: 'exited', exitCode: 2, exitFromProc: true, seeded: true });
  });

  it("the kernel's own exit replaces one inferred from a zombie", () => {
    const t = new ProcessTable();
    t.apply([exec(1, 1), exit(1, 1, { code: 0, inferred: 'zombie', endSec: 4 })], at(4));
    t.apply([exit(1, 1, { signal: 6, core: true, endSec: 3.5 })], at(5));
    expect(t.get(keyOf(1, 1))).toMatchObject({
      state: 'exited', exitCode: 0, signal: 6, coreDumped: true, exitFromProc: false, exitedAt: at(3.5),
    });
    expect(t.counts()).toEqual({ running: 0, exited: 1, lost: 0, total: 1 });
  });

  it("the kernel's own exit replaces a vanished one, and the row counts as exited", () => {
    const t = new ProcessTable();
    t.apply([exec(1, 1), exit(1, 1, { inferred: 'vanished', endSec: 4 })], at(4));
    t.apply([exit(1, 1, { code: 7, endSec: 3.5 })], at(5));
    expect(t.get(keyOf(1, 1))).toMatchObject({ state: 'exited', exitCode: 7, signal: 0, exitFromProc: false });
    expect(t.counts()).toEqual({ running: 0, exited: 1, lost: 0, total: 1 });
  });

  it('an inferred exit never replaces the kernel one, nor another inferred one', () => {
    const t = new ProcessTable();
    t.apply([exec(1, 1), exit(1, 1, { code: 1, endSec: 3 })], at(3));
    const before = t.version;
    t.apply([exit(1, 1, { code: 9, inferred: 'zombie', endSec: 4 }), exit(1, 1, { inferred: 'vanished', endSec: 5 })], at(5));
    expect(t.get(keyOf(1, 1))).toMatchObject({ state: 'exited', exitCode: 1, exitFromProc: false, exitedAt: at(3) });
    expect(t.version).toBe(before);

    t.apply([exec(2, 1), exit(2, 1, { code: 4, inferred: 'zombie', endSec: 3 })], at(3));
    t.apply([exit(2, 1, { inferred: 'vanished', endSec: 5 })], at(5));
    expect(t.get(keyOf(2, 1))).toMatchObject({ state: 'exited', exitCode: 4, exitFromProc: true, exitedAt: at(3) });
  });

  it("a status-less exit (the /proc source's) never replaces a zombie's known status", () => {
    const t = new ProcessTable();
    t.apply([exec(1, 1), exit(1, 1, { code: 5, inferred: 'zombie', endSec: 3 })], at(3));
    t.apply([exit(1, 1, { unknownStatus: true, endSec: 4 })], at(4));
    expect(t.get(keyOf(1, 1))).toMatchObject({ state: 'exited', exitCode: 5, exitFromProc: true, exitedAt: at(3) });
  });

  it('a second kernel exit is ignored, also after it replaced an inferred one', () => {
    const t = new ProcessTable();
    t.apply([exec(1, 1), exit(1, 1, { code: 0, inferred: 'zombie' })], at(3));
    t.apply([exit(1, 1, { code: 2, endSec: 2.5 })], at(4));
    t.apply([exit(1, 1, { code: 9, endSec: 5 })], at(5));
    expect(t.get(keyOf(1, 1))).toMatchObject({ state: 'exited', exitCode: 2, exitFromProc: false, exitedAt: at(2.5) });
  });

  it('a row reconcile marked lost is not changed by a later inferred exit: only the kernel replaces one', () => {
    const t = new ProcessTable();
    t.apply([exec(1, 1)], at(1));
    t.reconcile(new Set(), at(5));
    t.apply([exit(1, 1, { code: 3, inferred: 'zombie', endSec: 6 })], at(6));
    expect(t.get(keyOf(1, 1))!.state).toBe('lost');
  });
});

describe('recovered processes', () => {
  it('a recovered exec creates a running row flagged recovered', () => {
    const t = new ProcessTable();
    t.apply([exec(1, 1, { args: ['python3', 'found.py'], recovered: true })], at(5));
    expect(t.get(keyOf(1, 1))).toMatchObject({ state: 'running', recovered: true, seeded: false, args: ['python3', 'found.py'], label: 'found.py' });
    t.apply([exec(2, 1)], at(5));
    expect(t.get(keyOf(2, 1))!.recovered).toBe(false);
  });

  it('does not overwrite a row the events already described', () => {
    const t = new ProcessTable();
    t.apply([exec(1, 1, { args: ['python3', 'real.py'] })], at(1));
    const before = t.version;
    t.apply([exec(1, 1, { args: ['python3', 'stale.py'], comm: 'other', recovered: true })], at(5));
    expect(t.get(keyOf(1, 1))).toMatchObject({ args: ['python3', 'real.py'], comm: 'python3', recovered: false });
    expect(t.version).toBe(before);
  });

  it('fills in the args of a row that had none (an exit that overtook its exec)', () => {
    const t = new ProcessTable();
    t.apply([exit(1, 1, { code: 2 })], at(2));
    t.apply([exec(1, 1, { args: ['python3', 'late.py'], recovered: true })], at(3));
    expect(t.get(keyOf(1, 1))).toMatchObject({ state: 'exited', exitCode: 2, args: ['python3', 'late.py'] });
  });
});

describe('labels in the table', () => {
  const uvicorn = ['/usr/bin/python3', '/usr/local/bin/uvicorn', 'app:app', '--workers', '2'];
  const spawn = ['/usr/bin/python3', '-c', 'from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd=5, pipe_handle=7)', '--multiprocessing-fork'];

  it('labels uvicorn master and its spawned and forked workers', () => {
    const t = new ProcessTable();
    t.apply([exec(10, 1, { comm: 'uvicorn', filename: '/usr/local/bin/uvicorn', args: uvicorn })], at(1));
    t.apply([fork(10, 1, 11, 2), exec(11, 2, { ppid: 10, comm: 'python3.11', args: spawn })], at(2));
    t.apply([fork(10, 1, 12, 3)], at(3));
    expect(t.get(keyOf(10, 1))!.label).toBe('uvicorn app:app master');
    expect(t.get(keyOf(11, 2))!.label).toBe('uvicorn app:app worker');
    expect(t.get(keyOf(12, 3))!.label).toBe('uvicorn app:app worker');
  });

  it('labels a seeded worker from its seeded master', () => {
    const t = new ProcessTable();
    t.apply([
      exec(10, 1, { comm: 'uvicorn', args: uvicorn, seeded: true }),
      exec(11, 2, { ppid: 10, args: spawn, seeded: true }),
    ], at(5));
    expect(t.get(keyOf(11, 2))!.label).toBe('uvicorn app:app worker');
  });

  it('uses the parent that was alive when the child started, not an older holder of the pid', () => {
    const t = new ProcessTable();
    t.apply([exec(10, 1, { args: ['python3', 'old.py'] }), exit(10, 1, { endSec: 2 })], at(2));
    t.apply([exec(10, 3, { comm: 'uvicorn', args: uvicorn })], at(3));
    t.apply([exec(11, 4, { ppid: 10, args: spawn })], at(4));
    expect(t.get(keyOf(11, 4))!.label).toBe('uvicorn app:app worker');
  });
});

describe('sorting', () => {
  function table(): ProcessTable {
    const t = new ProcessTable({ userName: (uid) => ['root', 'alice', 'Bob'][uid] ?? String(uid) });
    const specs: [number, number, number, string, string[]][] = [
      [30, 1, 1, 'python3', ['python3', 'b.py']],
      [10, 1, 2, 'sleep', ['sleep', '1']],
      [20, 30, 0, 'Python3', ['python3', 'a.py']],
      [40, 10, 1, 'sh', ['sh', '-c', 'x']],
      [25, 10, 2, 'python3', ['python3', 'b.py']],
      [15, 30, 1, 'sleep', ['sleep', '1']],
    ];
    specs.forEach(([pid, ppid, uid, comm, args], i) => t.apply([exec(pid, 1 + (i % 3), { ppid, uid, comm, args })], at(10)));
    t.apply([exit(10, 2, { endSec: 20 })], at(20));
    t.reconcile(new Set([keyOf(30, 1), keyOf(20, 3), keyOf(25, 2), keyOf(15, 3)]), at(21));
    t.updateStats(new Map([[keyOf(30, 1), { cpuPct: 5, rssKb: 900 }], [keyOf(20, 3), { cpuPct: 50, rssKb: 100 }],
      [keyOf(25, 2), { cpuPct: 5, rssKb: 100 }]]));
    return t;
  }

  function value(row: ProcessRow, column: SortColumn, now: number): number | string | null {
    const rank = { running: 0, lost: 1, exited: 2 };
    const values: Record<SortColumn, number | string | null> = {
      pid: row.pid, ppid: row.ppid, user: row.user.toLowerCase(), comm: row.comm.toLowerCase(),
      label: row.label.toLowerCase(), started: row.startedAt, age: Math.round(rowAgeMs(row, now)), cpu: row.cpuPct, // AGE as shown
      rss: row.rssKb, unit: row.unit.toLowerCase(), state: rank[row.state],
    };
    return values[column];
  }

  for (const column of SORT_COLUMNS) {
    for (const descending of [false, true]) {
      it(`orders by ${column} ${descending ? 'descending' : 'ascending'}, ties in insertion order, empty last`, () => {
        const t = table();
        const now = at(30);
        const insertion = [30, 10, 20, 40, 25, 15];
        const rows = t.view({ sort: { column, descending }, query: '', showExited: true }, now);
        expect(rows).toHaveLength(6);
        let ties = 0;
        for (let i = 1; i < rows.length; i++) {
          const a = value(rows[i - 1], column, now);
          const b = value(rows[i], column, now);
          if (b === null) continue;
          expect(a).not.toBeNull();
          if (a === b) {
            ties++;
            expect(insertion.indexOf(rows[i - 1].pid)).toBeLessThan(insertion.indexOf(rows[i].pid));
          } else expect(descending ? a! > b : a! < b).toBe(true);
        }
        // The fixture has equal values in every column but pid, so the tie rule is really exercised.
        if (column === 'pid') expect(ties).toBe(0);
        else expect(ties, `ties in ${column}`).toBeGreaterThan(0);
      });
    }
  }

  it('orders state running < lost < exited', () => {
    const rows = table().view({ sort: { column: 'state', descending: false }, query: '', showExited: true }, at(30));
    expect(rows.map((r) => r.state)).toEqual(['running', 'running', 'running', 'running', 'lost', 'exited']);
  });

  it('puts rows without stats last in both directions', () => {
    for (const descending of [false, true]) {
      const rows = table().view({ sort: { column: 'cpu', descending }, query: '', showExited: true }, at(30));
      expect(rows.map((r) => r.cpuPct)).toEqual(descending ? [50, 5, 5, null, null, null] : [5, 5, 50, null, null, null]);
    }
  });

  it('age is the reverse of started for running rows; an ended row sorts by the lifetime its AGE shows', () => {
    const t = table();
    const view = (column: SortColumn, descending: boolean) => t.view({ sort: { column, descending }, query: '', showExited: false }, at(30));
    expect(pids(view('age', false))).toEqual(pids(view('started', true)));
    // pid 10 lived 18 s and is shown so: younger than the running rows that started at 1 s.
    const all = pids(t.view({ sort: { column: 'age', descending: false }, query: '', showExited: true }, at(30)));
    expect(all.indexOf(10)).toBeLessThan(all.indexOf(30));
  });
});

describe('display filter', () => {
  function table(): ProcessTable {
    const t = new ProcessTable();
    t.apply([
      exec(1, 1, { comm: 'uvicorn', args: ['uvicorn', 'Shop.Main:app'] }),
      exec(2, 1, { comm: 'python3', args: ['python3', 'worker.py', '--Queue=fast'] }),
      exec(3, 1, { comm: 'sh', args: ['sh', '-c', 'true'] }),
      exec(4, 1, { comm: 'python3', args: ['python3', 'done.py'] }),
      exit(4, 1),
    ], at(5));
    return t;
  }
  const q = (query: string, showExited = true): ViewOptions => ({ ...ALL, query, showExited });

  it('matches comm, args and label case-insensitively', () => {
    const t = table();
    expect(pids(t.view(q('UVICORN'), at(5)))).toEqual([1]);
    expect(pids(t.view(q('queue=FAST'), at(5)))).toEqual([2]);
    expect(pids(t.view(q('shop.main:app master'), at(5)))).toEqual([1]);
    expect(pids(t.view(q('py'), at(5)))).toEqual([2, 4]);
    expect(pids(t.view(q(''), at(5)))).toEqual([1, 2, 3, 4]);
  });

  it('does not match across two fields', () => {
    // comm "sh" + args "sh -c true" + label "sh -c true": "truesh" exists only if fields were glued.
    expect(pids(table().view(q('truesh'), at(5)))).toEqual([]);
    expect(pids(table().view(q('true'), at(5)))).toEqual([3]);
  });

  it('hides exited and lost rows unless showExited', () => {
    const t = table();
    t.reconcile(new Set([keyOf(1, 1), keyOf(2, 1)]), at(6));
    expect(pids(t.view(q('', false), at(6)))).toEqual([1, 2]);
    expect(pids(t.view(q('', true), at(6)))).toEqual([1, 2, 3, 4]);
  });

  it('sees the new args after an exec in place', () => {
    const t = table();
    expect(pids(t.view(q('server'), at(5)))).toEqual([]);
    t.apply([exec(3, 1, { args: ['python3', '-m', 'http.server'] })], at(6));
    expect(pids(t.view(q('server'), at(6)))).toEqual([3]);
  });
});

describe('tree view and parent chain', () => {
  function table(): ProcessTable {
    const t = new ProcessTable();
    t.apply([
      exec(100, 1, { args: ['python3', 'root.py'] }),
      exec(300, 2, { ppid: 100, args: ['python3', 'b.py'] }),
      exec(200, 3, { ppid: 100, args: ['python3', 'a.py'] }),
      exec(400, 4, { ppid: 300, args: ['python3', 'grandchild.py'] }),
      exec(50, 5, { ppid: 1, args: ['python3', 'other.py'] }),
    ], at(6));
    return t;
  }

  it('orders depth-first with siblings sorted and depth set', () => {
    const rows = table().view({ ...ALL, tree: true }, at(6));
    expect(rows.map((r) => [r.pid, treeDepth(r)])).toEqual([[50, 0], [100, 0], [200, 1], [300, 1], [400, 2]]);
    const desc = table().view({ ...ALL, sort: { column: 'pid', descending: true }, tree: true }, at(6));
    expect(desc.map((r) => [r.pid, treeDepth(r)])).toEqual([[100, 0], [300, 1], [400, 2], [200, 1], [50, 0]]);
  });

  it('makes a row whose parent is filtered out a root, and keeps no view state in the rows', () => {
    const t = table();
    const rows = t.view({ ...ALL, query: 'grandchild', tree: true }, at(6));
    expect(rows.map((r) => [r.pid, treeDepth(r)])).toEqual([[400, 0]]);
    const tree = t.view({ ...ALL, tree: true }, at(6));
    expect(tree.every((r) => !('depth' in r))).toBe(true);
    // A flat view in between (a snapshot) does not disturb the tree's depths.
    t.view(ALL, at(6));
    expect(tree.map((r) => treeDepth(r))).toEqual([0, 0, 1, 1, 2]);
  });

  it('still shows rows on a ppid cycle', () => {
    const t = new ProcessTable();
    t.apply([exec(1, 1, { ppid: 2 }), exec(2, 1, { ppid: 1 })], at(2));
    expect(pids(t.view({ ...ALL, tree: true }, at(2))).sort()).toEqual([1, 2]);
  });

  it('gives the chain from a row up to its oldest known ancestor', () => {
    expect(pids(table().parentChain(keyOf(400, 4)))).toEqual([400, 300, 100]);
    expect(table().parentChain('nope')).toEqual([]);
  });
});

describe('stats and version', () => {
  it('applies cpu and rss to known rows and moves the version only on change', () => {
    const t = new ProcessTable();
    t.apply([exec(1, 1)], at(1));
    const v = t.version;
    t.updateStats(new Map([[keyOf(1, 1), { cpuPct: 12.5, rssKb: 2048 }], ['9:9', { cpuPct: 1, rssKb: 1 }]]));
    expect(t.get(keyOf(1, 1))).toMatchObject({ cpuPct: 12.5, rssKb: 2048 });
    expect(t.version).toBeGreaterThan(v);
    const v2 = t.version;
    t.updateStats(new Map([[keyOf(1, 1), { cpuPct: 12.5, rssKb: 2048 }]]));
    t.apply([], at(2));
    t.expire(at(3));
    expect(t.version).toBe(v2);
    t.apply([exit(1, 1)], at(4));
    expect(t.version).toBeGreaterThan(v2);
  });

  it('lists running rows', () => {
    const t = new ProcessTable();
    t.apply([exec(1, 1), exec(2, 1), exit(2, 1)], at(3));
    expect(pids(t.running())).toEqual([1]);
  });
});

describe('renamed processes (prctl PR_SET_NAME)', () => {
  it('takes the live comm from stats samples and the final one from the exit', () => {
    const t = new ProcessTable();
    t.apply([exec(700, 5, { comm: 'python3' })], at(6));
    const key = keyOf(700, 5);
    t.updateStats(new Map([[key, { cpuPct: 1.5, rssKb: 900, comm: 'worker-a' }]]));
    expect(t.get(key)!.comm).toBe('worker-a');
    t.apply([exit(700, 5, { code: 0, comm: 'worker-b' })], at(9));
    expect(t.get(key)!.comm).toBe('worker-b');
    expect(t.get(key)!.state).toBe('exited');
  });

  it('keeps the comm when a sample carries none', () => {
    const t = new ProcessTable();
    t.apply([exec(701, 5, { comm: 'python3' })], at(6));
    const v = t.version;
    t.updateStats(new Map([[keyOf(701, 5), { cpuPct: 0, rssKb: 10 }]]));
    expect(t.get(keyOf(701, 5))!.comm).toBe('python3');
    expect(t.version).toBeGreaterThan(v);
  });
});

describe('folding (z)', () => {
  const FOLD: ViewOptions = { ...ALL, fold: true };

  /** The pyenv shim chain: one process execs shim, bash, pyenv, then python; helpers come and go in between. */
  function shimChain(t: ProcessTable): void {
    t.apply([
      exec(500, 10, { comm: 'python3', args: ['/usr/bin/env', 'bash', '/root/.pyenv/shims/python3', 'app.py'], time: at(10.001) }),
      { ...exec(500, 10, { comm: 'bash', args: ['bash', '/root/.pyenv/shims/python3', 'app.py'] }), time: at(10.002) },
      fork(500, 10, 501, 10.01, { comm: 'bash' }),
      exec(502, 10.02, { ppid: 501, comm: 'readlink', args: ['/usr/bin/readlink', 'pyenv'] }),
      exit(502, 10.02, { ppid: 501, comm: 'readlink', code: 1, endSec: 10.03 }),
      exit(501, 10.01, { ppid: 500, comm: 'bash', endSec: 10.04 }),
      exec(503, 10.05, { ppid: 500, comm: 'pyenv-which', args: ['bash', '/root/.pyenv/libexec/pyenv-which', 'python3'] }),
      exit(503, 10.05, { ppid: 500, comm: 'bash', endSec: 10.06 }),
      { ...exec(500, 10, { comm: 'python3', args: ['/root/.pyenv/versions/3.11.7/bin/python3', 'app.py'] }), time: at(10.1) },
      // A child of the real program, after its exec: never folded.
      exec(504, 11, { ppid: 500, comm: 'worker', args: ['worker'] }),
      exit(504, 11, { ppid: 500, comm: 'worker', endSec: 12 }),
    ], at(12));
  }

  it('folds the helpers that ended before the process exec\'d its real program, and counts them', () => {
    const t = new ProcessTable();
    shimChain(t);
    expect(pids(t.view(ALL, at(12)))).toEqual([500, 501, 502, 503, 504]);
    expect(t.folded()).toBe(0);
    expect(pids(t.view(FOLD, at(12)))).toEqual([500, 504]);
    expect(t.folded()).toBe(3);
    expect(t.get(keyOf(500, 10))).toMatchObject({ execs: 3, lastExecAt: at(10.1), comm: 'python3' });
    // The table itself keeps every row.
    expect(t.counts().total).toBe(5);
  });

  it('folds an sh -c wrapper that runs one child, not one that runs several', () => {
    const t = new ProcessTable();
    t.apply([
      exec(600, 20, { comm: 'sh', args: ['sh', '-c', 'python3 app.py'] }),
      exec(601, 20.1, { ppid: 600, comm: 'python3', args: ['python3', 'app.py'] }),
      exec(700, 20, { comm: 'sh', args: ['sh', '-c', 'a; b'] }),
      exec(701, 20.1, { ppid: 700, comm: 'a', args: ['a'] }),
      exec(702, 20.2, { ppid: 700, comm: 'b', args: ['b'] }),
      exec(800, 20, { comm: 'sh', args: ['sh', 'script.sh'] }), // not a -c wrapper
      exec(801, 20.1, { ppid: 800, comm: 'c', args: ['c'] }),
    ], at(21));
    expect(pids(t.view(FOLD, at(21)))).toEqual([601, 700, 701, 702, 800, 801]);
    expect(t.folded()).toBe(1);
    expect(pids(t.view(ALL, at(21)))).toHaveLength(7);
  });
});
