import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isDead, parseStat, ProcInfo, ProcStat, readProc, readStat, scanByKey } from '../../src/source/procfs';
import { StatsSampler } from '../../src/source/procSampler';
import { inferredExit, lookup, recoverFromProc, seedEvents, seedFromProc } from '../../src/source/procSeed';
import { ProcSource } from '../../src/source/procSource';
import { ExecEvent, ExitEvent, LifecycleEvent, NS_PER_TICK, processKey } from '../../src/core/types';

/** A stat line as the kernel writes it, with fields 3..52 after the comm. */
function statLine(pid: number, comm: string, fields: Record<number, number | string>): string {
  const rest: (number | string)[] = [];
  for (let n = 3; n <= 52; n++) rest.push(fields[n] ?? (n === 3 ? 'S' : 0));
  return `${pid} (${comm}) ${rest.join(' ')}\n`;
}

describe('parseStat', () => {
  it('takes the comm up to the LAST parenthesis, whatever it contains', () => {
    const stat = parseStat(statLine(4321, 'a) b (c', { 3: 'R', 4: 77, 14: 150, 15: 25, 20: 6, 22: 123456, 24: 812 }))!;
    expect(stat).toEqual({
      pid: 4321, comm: 'a) b (c', state: 'R', ppid: 77, utimeTicks: 150, stimeTicks: 25, threads: 6, startTicks: 123456,
      rssPages: 812, exitStatus: 0,
    });
  });

  it('reads the resident pages statm reports (the table\'s RSS reads stat alone)', () => {
    const fromStat = readStat(process.pid)!.rssPages;
    const fromStatm = Number(fs.readFileSync('/proc/self/statm', 'utf8').split(' ')[1]);
    expect(fromStat).toBeGreaterThan(1000); // a Node process is tens of MB: the field is the right one
    expect(Math.abs(fromStat - fromStatm)).toBeLessThan(fromStatm * 0.05);
  });

  it('reads the exit status (field 52, in wait(2) form), null when the line stops before it', () => {
    expect(parseStat(statLine(9, 'x', { 3: 'Z', 22: 5, 52: 0x0300 }))!.exitStatus).toBe(0x0300);
    expect(parseStat(statLine(9, 'x', { 3: 'Z', 22: 5, 52: 0x0086 }))!.exitStatus).toBe(0x86);
    // Kernels before 3.5 end at field 44; any line short of field 52 has no status.
    const full = statLine(9, 'x', { 3: 'Z', 22: 5, 52: 0x0300 }).trimEnd().split(' ');
    for (const last of [44, 51]) {
      const short = parseStat(full.slice(0, last).join(' ') + '\n')!;
      expect(short).toMatchObject({ pid: 9, state: 'Z', startTicks: 5, exitStatus: null });
    }
  });

  it('copes with an empty comm and one made of parentheses and spaces', () => {
    expect(parseStat(statLine(5, '', { 4: 1, 22: 9 }))).toMatchObject({ comm: '', ppid: 1, startTicks: 9 });
    expect(parseStat(statLine(6, ') ) (', { 4: 2, 22: 10 }))).toMatchObject({ comm: ') ) (', ppid: 2, startTicks: 10 });
  });

  it('rejects garbage', () => {
    expect(parseStat('')).toBeNull();
    expect(parseStat('12 no parens S 1')).toBeNull();
    expect(parseStat('12 (x) S 1 2 3')).toBeNull();
  });
});

describe('reading the live /proc', () => {
  it('reads this test process', () => {
    const info = readProc(process.pid)!;
    expect(info.pid).toBe(process.pid);
    expect(info.ppid).toBe(process.ppid);
    expect(info.uid).toBe(process.getuid!());
    expect(info.comm).toBe(fs.readFileSync('/proc/self/comm', 'utf8').trimEnd());
    expect(info.filename).toBe(fs.realpathSync(process.execPath));
    expect(info.args.length).toBeGreaterThan(0);
    expect(info.threads).toBeGreaterThanOrEqual(1);
    expect(info.cgroupId).toBe('0');
    expect(info.start % 1e7).toBe(0);
    // The start converted to wall-clock time agrees with Node's own idea of when we started.
    expect(Math.abs(info.startedAt - (Date.now() - process.uptime() * 1000))).toBeLessThan(2000);
  });

  it('returns null for a pid that does not exist', () => {
    expect(readProc(2 ** 22 + 1)).toBeNull();
  });

  it('scans every process and keys its stat by (pid, start)', () => {
    const self = readProc(process.pid)!;
    expect(self).toBeDefined();
    const byKey = scanByKey();
    expect([...byKey.values()].some((st) => st.pid === 1)).toBe(true);
    const mine = byKey.get(processKey(self.pid, self.start))!;
    expect(mine).toMatchObject({ pid: process.pid, ppid: process.ppid, comm: self.comm, startTicks: self.start / NS_PER_TICK });
    expect(mine.state).not.toBe('Z');
    expect(isDead(mine)).toBe(false);
    expect(byKey.has(processKey(self.pid, self.start + 1e7))).toBe(false);
  });

  it('looks a process up by key: alive, or gone when the pid is unused or holds another process', () => {
    const self = readProc(process.pid)!;
    expect(lookup(process.pid, processKey(process.pid, self.start))).toMatchObject({ state: 'alive', stat: { pid: process.pid } });
    expect(lookup(process.pid, processKey(process.pid, self.start + 1e7))).toEqual({ state: 'gone', stat: null });
    expect(lookup(2 ** 22 + 1, '4194305:1')).toEqual({ state: 'gone', stat: null });
  });
});

describe('isDead', () => {
  const stat = (state: string, threads: number): ProcStat => parseStat(statLine(2 ** 22 + 1, 'x', { 3: state, 20: threads, 22: 5 }))!;

  it('a process in any running state is alive, however many threads it has', () => {
    for (const state of ['R', 'S', 'D', 'T', 't', 'I']) {
      expect(isDead(stat(state, 1))).toBe(false);
      expect(isDead(stat(state, 4))).toBe(false);
    }
  });

  it('a zombie (or dead) leader that is the last thread is the whole process, dead', () => {
    expect(isDead(stat('Z', 1))).toBe(true);
    expect(isDead(stat('X', 1))).toBe(true);
  });

  it('a zombie leader with more threads is dead only if /proc shows none of them alive (here: gone meanwhile)', () => {
    expect(isDead(stat('Z', 3))).toBe(true); // the pid does not exist: reaped while we looked
  });
});

describe('inferredExit', () => {
  const me = process.geteuid!();
  const proc = { pid: 4321, ppid: 1, uid: me, comm: 'python3', start: 5 * NS_PER_TICK, startedAt: 1.7e12, cgroupId: '9' };
  const zombie = (status: number | null): ProcStat => ({
    pid: 4321, comm: 'renamed', state: 'Z', ppid: 77, utimeTicks: 150, stimeTicks: 25, threads: 1, startTicks: 5, rssPages: 0, exitStatus: status,
  });
  const now = 1.7e12 + 2500;

  it('takes an exit code from a zombie (status 0x0300: exit 3)', () => {
    const ev = inferredExit(proc, zombie(0x0300), now);
    expect(ev).toEqual({
      type: 'exit', time: now, pid: 4321, ppid: 77, tid: 4321, uid: me, comm: 'renamed', start: proc.start, startedAt: proc.startedAt,
      cgroupId: '9', exitCode: 3, signal: 0, coreDumped: false, durationMs: 2500, cpuMs: 1750, inferred: 'zombie',
    });
  });

  it('takes a signal from a zombie (0x0009: SIGKILL), and a core dump (0x0086: SIGABRT, core)', () => {
    expect(inferredExit(proc, zombie(0x0009), now)).toMatchObject({ exitCode: 0, signal: 9, coreDumped: false, inferred: 'zombie' });
    expect(inferredExit(proc, zombie(0x0086), now)).toMatchObject({ exitCode: 0, signal: 6, coreDumped: true, inferred: 'zombie' });
    expect(inferredExit(proc, zombie(0), now)).toMatchObject({ exitCode: 0, signal: 0, coreDumped: false, inferred: 'zombie' });
    expect('unknownStatus' in inferredExit(proc, zombie(0x0009), now)).toBe(false);
  });

  it('says the status is unknown when the zombie stat has no field 52', () => {
    expect(inferredExit(proc, zombie(null), now)).toMatchObject({ exitCode: 0, signal: 0, inferred: 'zombie', unknownStatus: true });
  });

  it('without a stat the process vanished: status unknown, what the row knew kept', () => {
    const ev = inferredExit(proc, null, now);
    expect(ev).toMatchObject({ type: 'exit', pid: 4321, ppid: 1, comm: 'python3', exitCode: 0, signal: 0, coreDumped: false, cpuMs: 0, inferred: 'vanished' });
    expect(ev.durationMs).toBe(2500);
    expect('unknownStatus' in ev).toBe(false); // 'vanished' says it already: the table shows lost, code and signal null
  });
});

describe('a process whose leader exited before its other threads', () => {
  // The leader calls pthread_exit: /proc shows it Z while a thread still runs. That thread
  // ends the process with exit(3) once fd 3 closes; the parent shell reaps only when told.
  const SCRIPT = [
    'import ctypes, os, threading',
    'def worker():',
    '    os.read(3, 1)',
    '    os._exit(3)',
    'threading.Thread(target=worker).start()',
    'print(os.getpid(), flush=True)',
    'ctypes.CDLL(None).pthread_exit(None)',
  ].join('\n');
  let dir = '';
  let shell: ChildProcess | null = null;
  let pid = 0;
  afterEach(() => {
    if (pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    shell?.kill('SIGKILL');
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    dir = '';
    shell = null;
    pid = 0;
  });

  async function until<T>(what: string, probe: () => T | null | undefined | false): Promise<T> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const got = probe();
      if (got) return got;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it('is running while a thread lives, dead once the last one ends, gone once reaped', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifetop-zombie-'));
    const python = path.join(dir, 'ltzombie'); // a comm nothing else on the machine has
    fs.symlinkSync('/usr/bin/python3', python);
    shell = spawn('/bin/sh', ['-c', '"$0" -c "$1" & read _; wait', python, SCRIPT], { stdio: ['pipe', 'pipe', 'inherit', 'pipe'] });
    let out = '';
    shell.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    pid = await until('the pid', () => (out.includes('\n') ? Number(out.trim()) : 0));
    const filter = { patterns: ['ltzombie'], followChildren: false };

    // The leader is a zombie, a thread still runs: the process runs.
    const leaderGone = await until('the leader to be Z', () => {
      const st = readStat(pid);
      return st?.state === 'Z' ? st : null;
    });
    expect(leaderGone).toMatchObject({ comm: 'ltzombie', threads: 2 });
    expect(isDead(leaderGone)).toBe(false);
    const key = processKey(pid, leaderGone.startTicks * NS_PER_TICK);
    expect(lookup(pid, key).state).toBe('alive');
    expect(scanByKey().get(key)).toMatchObject({ pid, state: 'Z' });
    const seeded = seedFromProc(filter, 1);
    expect(seeded.filter((e) => e.pid === pid).map((e) => e.type)).toEqual(['exec']);
    expect(recoverFromProc(filter, () => false, 1).map((e) => [e.pid, e.recovered])).toEqual([[pid, true]]);
    expect(recoverFromProc(filter, (k) => k === key, 1)).toEqual([]);

    // The last thread exits with status 3: an unreaped zombie, dead, its status in field 52.
    shell.stdio[3]!.destroy();
    const dead = await until('the process to be dead', () => {
      const st = readStat(pid);
      return st?.state === 'Z' && st.threads === 1 ? st : null;
    });
    expect(dead.exitStatus).toBe(0x0300);
    expect(isDead(dead)).toBe(true);
    expect(lookup(pid, key)).toMatchObject({ state: 'dead', stat: { pid, exitStatus: 0x0300 } });
    const info = {
      pid, ppid: shell.pid!, uid: process.geteuid!(), comm: 'ltzombie', start: dead.startTicks * NS_PER_TICK,
      startedAt: Date.now() - 1000, cgroupId: '0',
    };
    expect(inferredExit(info, dead, Date.now())).toMatchObject({ exitCode: 3, signal: 0, coreDumped: false, inferred: 'zombie' });
    const seeds = seedFromProc(filter, 7).filter((e) => e.pid === pid);
    expect(seeds.map((e) => e.type)).toEqual(['exec', 'exit']);
    expect(seeds[1]).toMatchObject({ seeded: true, inferred: 'zombie', exitCode: 3, signal: 0, start: seeds[0].start, time: 7 });
    expect(recoverFromProc(filter, () => false, 1)).toEqual([]); // the dead are not recovered

    // Reaped: gone.
    shell.stdin!.end('\n');
    await until('the shell to reap it', () => lookup(pid, key).state === 'gone');
    expect(readStat(pid)).toBeNull();
  }, 20_000);
});

describe('seedEvents', () => {
  const proc = (pid: number, ppid: number, comm: string, startTicks: number): ProcInfo => ({
    pid, ppid, uid: 1000, comm, args: [comm], filename: `/usr/bin/${comm}`, start: startTicks * 1e7,
    startedAt: 1.7e12 + startTicks * 10, cgroupId: '0', threads: 1,
  });
  const procs = [
    proc(40, 30, 'sh', 400), proc(1, 0, 'systemd', 1), proc(30, 20, 'python3', 300), proc(20, 1, 'bash', 200),
    proc(50, 40, 'true', 500), proc(60, 1, 'uvicorn', 100), proc(70, 1, 'sleep', 50),
  ];

  it('seeds matching processes and, when following, their descendants, oldest first', () => {
    const events = seedEvents(procs, { patterns: ['python*', 'uvicorn'], followChildren: true }, 1234);
    expect(events.map((e) => e.pid)).toEqual([60, 30, 40, 50]);
    for (const e of events) expect(e).toMatchObject({ type: 'exec', seeded: true, time: 1234, argsTruncated: false });
    expect(events[1]).toMatchObject({ comm: 'python3', ppid: 20, uid: 1000, filename: '/usr/bin/python3', args: ['python3'], start: 300e7 });
  });

  it('seeds only the matches when not following children', () => {
    const events = seedEvents(procs, { patterns: ['python*', 'uvicorn'], followChildren: false }, 0);
    expect(events.map((e) => e.pid)).toEqual([60, 30]);
  });

  it('seeds everything for "*"', () => {
    expect(seedEvents(procs, { patterns: ['*'], followChildren: false }, 0)).toHaveLength(procs.length);
  });
});

describe('StatsSampler', () => {
  it('measures CPU between samples and RSS, and skips vanished or reused pids', () => {
    const self = readProc(process.pid)!;
    const rows = [
      { pid: process.pid, key: processKey(process.pid, self.start) },
      { pid: process.pid, key: processKey(process.pid, self.start + 5e7) }, // same pid, another process
      { pid: 2 ** 22 + 1, key: '4194305:1' },
    ];
    const sampler = new StatsSampler();
    const first = sampler.sample(rows, Date.now());
    expect([...first.keys()]).toEqual([rows[0].key]);
    const begin = process.cpuUsage();
    let x = 0;
    // Burn at least 300 ms of CPU (measured as CPU time, not wall time).
    while (process.cpuUsage(begin).user < 300_000) x += Math.sqrt(x + 1);
    const second = sampler.sample(rows, Date.now()).get(rows[0].key)!;
    expect(second.cpuPct).toBeGreaterThan(5);
    expect(second.rssKb).toBeGreaterThan(10_000);
    expect(second.rssKb * 1024).toBeLessThan(process.memoryUsage().rss * 2);
  });
});

describe('ProcSource', () => {
  const children: ChildProcess[] = [];
  const sources: ProcSource[] = [];
  afterEach(() => {
    for (const s of sources.splice(0)) s.stop();
    for (const c of children.splice(0)) c.kill('SIGKILL');
  });

  function run(cmd: string, args: string[]): ChildProcess {
    const child = spawn(cmd, args, { stdio: 'ignore' });
    children.push(child);
    return child;
  }

  function collect(source: ProcSource): { events: LifecycleEvent[]; until: (pred: (e: LifecycleEvent) => boolean) => Promise<LifecycleEvent> } {
    const events: LifecycleEvent[] = [];
    const waiters: { pred: (e: LifecycleEvent) => boolean; resolve: (e: LifecycleEvent) => void }[] = [];
    source.start((batch) => {
      for (const e of batch) {
        events.push(e);
        for (const w of waiters.filter((w) => w.pred(e))) w.resolve(e);
      }
    });
    sources.push(source);
    const until = (pred: (e: LifecycleEvent) => boolean, timeoutMs = 10_000) => {
      const seen = events.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise<LifecycleEvent>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pred}; events so far:\n`
          + events.map((e) => `${e.type} ${e.pid} ${e.comm}`).join('\n'))), timeoutMs);
        waiters.push({ pred, resolve: (e) => { clearTimeout(timer); resolve(e); } });
      });
    };
    return { events, until };
  }

  /** Resolves once pid runs the program named comm (a child spawned by node is node until it execs). */
  async function execd(pid: number, comm: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (readStat(pid)?.comm !== comm) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pid} to exec ${comm}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it('reports a new matching process and its exit', async () => {
    const source = new ProcSource({ patterns: ['sleep'], followChildren: true }, { intervalMs: 100 });
    expect(source.kind).toBe('proc');
    expect(source.caveat).toMatch(/polling \/proc on program starts and every 0.1s: processes shorter than ~30 ms may be missed/);
    const { events, until } = collect(source);
    const child = run('sleep', ['2']);
    const started = (await until((e) => e.type === 'exec' && e.pid === child.pid)) as ExecEvent;
    expect(started).toMatchObject({ comm: 'sleep', args: ['sleep', '2'], ppid: process.pid, uid: process.getuid!(), argsTruncated: false });
    expect(started.seeded).toBeUndefined();
    expect(started.filename).toMatch(/sleep$/);
    const ended = (await until((e) => e.type === 'exit' && e.pid === child.pid)) as ExitEvent;
    expect(ended).toMatchObject({ start: started.start, comm: 'sleep', exitCode: 0, signal: 0 });
    // Seen as a zombie before node reaped it: the status is /proc's; seen gone: flagged unknown.
    expect([true, undefined]).toContain(ended.unknownStatus);
    expect(ended.durationMs).toBeGreaterThan(0);
    expect(events.filter((e) => e.pid === child.pid).map((e) => e.type)).toEqual(['exec', 'exit']);
    expect(source.counters()).toMatchObject({ execs: expect.any(Number), exits: expect.any(Number) });
    expect(source.counters().tracedExits).toBeGreaterThanOrEqual(1);
  }, 20_000);

  it('follows children of a matching process but not unrelated ones', async () => {
    // A shell under a unique name: its comm is "ltparent", its children are ordinary.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifetop-proc-'));
    fs.symlinkSync('/bin/sh', path.join(dir, 'ltparent'));
    try {
      const source = new ProcSource({ patterns: ['ltparent'], followChildren: true }, { intervalMs: 100 });
      const { events, until } = collect(source);
      const parent = run(path.join(dir, 'ltparent'), ['-c', 'sleep 1.5; true']);
      const other = run('sleep', ['1.5']);
      const child = (await until((e) => e.type === 'exec' && e.comm === 'sleep' && e.ppid === parent.pid)) as ExecEvent;
      expect(child.args).toEqual(['sleep', '1.5']);
      await until((e) => e.type === 'exit' && e.pid === child.pid);
      await until((e) => e.type === 'exit' && e.pid === parent.pid);
      expect(events.some((e) => e.pid === other.pid)).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);

  it('reports a zombie as exited once, with the status /proc keeps, and not again when it is reaped', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifetop-proc-'));
    fs.symlinkSync('/usr/bin/python3', path.join(dir, 'ltzp-py'));
    try {
      const source = new ProcSource({ patterns: ['ltzp-py'], followChildren: true }, { intervalMs: 100 });
      const { events, until } = collect(source);
      // The child exits 5 at once; its parent reaps it only when told to (a line on stdin).
      const code = 'import os, sys\npid = os.fork()\nif pid == 0: os._exit(5)\nprint(pid, flush=True)\nsys.stdin.readline()\nos.waitpid(pid, 0)';
      const parent = spawn(path.join(dir, 'ltzp-py'), ['-c', code], { stdio: ['pipe', 'pipe', 'inherit'] });
      const kid = Number(await new Promise<string>((resolve) => parent.stdout!.once('data', (d: Buffer) => resolve(String(d).trim()))));
      const zombie = (await until((e) => e.type === 'exit' && e.pid === kid)) as ExitEvent;
      expect(zombie).toMatchObject({ inferred: 'zombie', exitCode: 5, signal: 0 });
      parent.stdin!.end('\n');
      await until((e) => e.type === 'exit' && e.pid === parent.pid); // the kid was reaped before
      expect(events.filter((e) => e.type === 'exit' && e.pid === kid)).toHaveLength(1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);

  it('traces matching processes that were running at start silently, and reports their exit', async () => {
    const child = run('sleep', ['1']);
    await execd(child.pid!, 'sleep'); // running as sleep before the source starts
    const source = new ProcSource({ patterns: ['sleep'], followChildren: false }, { intervalMs: 100 });
    const { events, until } = collect(source);
    await until((e) => e.type === 'exit' && e.pid === child.pid);
    expect(events.filter((e) => e.pid === child.pid).map((e) => e.type)).toEqual(['exit']);
  }, 20_000);

  it('traces what a new filter matches from then on', async () => {
    // A matching process the source saw start under a filter that did not match it: started after
    // the source, then a marker (named like the old filter) started and reported, so a scan saw both.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifetop-proc-'));
    fs.symlinkSync('/bin/sleep', path.join(dir, 'nothing-here'));
    try {
      const source = new ProcSource({ patterns: ['nothing-here'], followChildren: false }, { intervalMs: 100 });
      const { events, until } = collect(source);
      const child = run('sleep', ['2']);
      await execd(child.pid!, 'sleep');
      const marker = run(path.join(dir, 'nothing-here'), ['0.5']);
      await until((e) => e.type === 'exec' && e.pid === marker.pid);
      expect(events.some((e) => e.pid === child.pid)).toBe(false);
      source.setFilter({ patterns: ['sleep'], followChildren: false });
      const ended = await until((e) => e.type === 'exit' && e.pid === child.pid);
      expect(ended.comm).toBe('sleep');
      // Traced from the filter change on, silently: the caller seeds it, as with the kernel source.
      expect(events.filter((e) => e.pid === child.pid).map((e) => e.type)).toEqual(['exit']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);

  it('does not keep the process alive and stops delivering after stop()', async () => {
    const source = new ProcSource({ patterns: ['sleep'], followChildren: false }, { intervalMs: 100 });
    const { events } = collect(source);
    source.stop();
    // A twin left running sees the whole life of the child: the stopped source had the same chances.
    const twin = collect(new ProcSource({ patterns: ['sleep'], followChildren: false }, { intervalMs: 100 }));
    const child = run('sleep', ['0.3']);
    await twin.until((e) => e.type === 'exec' && e.pid === child.pid);
    await twin.until((e) => e.type === 'exit' && e.pid === child.pid);
    expect(events.filter((e) => e.pid === child.pid)).toEqual([]);
  }, 20_000);
});

describe('seedFromProc', () => {
  it('seeds this very process when the filter names its comm, and nothing for a comm no one has', () => {
    const self = readProc(process.pid)!;
    const events = seedFromProc({ patterns: [self.comm], followChildren: false }, 5);
    const mine = events.find((e) => e.pid === process.pid);
    expect(mine).toMatchObject({ type: 'exec', seeded: true, comm: self.comm, args: self.args, start: self.start });
    expect(events.every((e) => e.comm === self.comm)).toBe(true);
    expect(seedFromProc({ patterns: ['no-such-comm-x'], followChildren: true }, 5)).toEqual([]);
  });
});
