// The table is the truth: workloads that know what they did (long-lived processes, exits
// with codes and signals, zombies, a leader that dies before a renamed thread, forks
// without exec) compared with what lifetop reports, with and without lost events.
// Each test runs python under its own name (a symlink), so other tests' processes
// running in parallel never mix in. Both exit programs: the one this kernel picks, and the one
// kernels before 6.16 load (forced with LIFETOP_EXIT_PROGRAM=live).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN, bpfUnavailable, skipReason, sleep, startLifetop, stopLifetop, waitFor, type Running } from '../support/lifetop';
import { Children, exited, firstLine, procState, pythonAs } from '../support/workload';

const skip = skipReason(bpfUnavailable());

interface Row {
  pid: number; ppid: number; comm: string; state: string; exit_code: number | null; signal: number | null;
  origin: string; exit_from: string | null; reason: string | null; killed_by: unknown;
}
interface Snapshot { counters: Record<string, number>; processes: Row[] }

let dir: string;
const children = new Children();
const python = (name: string): string => pythonAs(dir, name);
const start = (exe: string, code: string): ChildProcess => children.start(exe, code);

async function until(what: string, pred: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function readSnapshot(file: string): Snapshot {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Snapshot;
}

function rowOf(snap: Snapshot, pid: number): Row | undefined {
  return snap.processes.find((r) => r.pid === pid);
}

/** 0 ghosts among the rows of our name: whatever the snapshot calls running is alive now (our long-lived ones are). */
function ghosts(snap: Snapshot, comm: string): Row[] {
  return snap.processes.filter((r) => r.comm === comm && r.state === 'running' && (procState(r.pid) ?? 'Z') === 'Z');
}

const ZOMBIE_MAKER = [
  'import os, signal, sys, time',
  'kids = []',
  'for code in (3, 4, 5):',
  '    pid = os.fork()',
  '    if pid == 0: os._exit(code)',
  '    kids.append(pid)',
  'pid = os.fork()',
  'if pid == 0: time.sleep(120); os._exit(0)',
  'os.kill(pid, signal.SIGTERM)  # and one killed by a signal',
  'kids.append(pid)',
  "print(' '.join(map(str, kids)), flush=True)",
  'time.sleep(120)  # never waits: the children stay zombies',
].join('\n');

const LEADER_FIRST = [
  'import ctypes, os, threading, time',
  'def worker():',
  "    ctypes.CDLL(None).prctl(15, b'renamed-worker', 0, 0, 0)",
  '    time.sleep(0.3)',
  '    os._exit(9)',
  'threading.Thread(target=worker).start()',
  'ctypes.CDLL(None).pthread_exit(None)  # the leader ends first, portably',
].join('\n');

const FORK_NO_EXEC = [
  'import os, time',
  'pid = os.fork()',
  'if pid == 0:',
  '    time.sleep(0.3); os._exit(2)',
  'print(pid, flush=True)',
  'os.waitpid(pid, 0)',
].join('\n');

const SLEEPER = 'import time; time.sleep(120)';

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifetop-truth-'));
});

afterEach(() => {
  children.killAll();
});

type ExitProgram = 'auto' | 'live';

/** The forced program is the one loaded (auto is the kernel's choice: group_dead on 6.16+). */
function expectProgram(stderr: string, program: ExitProgram): void {
  if (program === 'live') expect(stderr).toContain('exit program live');
}

/** `lifetop --snapshot` running in the background until its --duration ends. */
function snapshotRun(
  file: string, args: string[], program: ExitProgram,
): { child: ChildProcess; ready: Promise<void>; done: Promise<number | null>; stderr: () => string } {
  const child = spawn(process.execPath, [BIN, '--snapshot', file, ...args, '--verbose'], {
    stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LIFETOP_EXIT_PROGRAM: program },
  });
  let stderr = '';
  const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
      if (stderr.includes('lifetop: tracing')) resolve();
    });
    done.then(() => reject(new Error(`lifetop ended early: ${stderr}`)));
  });
  return { child, ready, done, stderr: () => stderr };
}

describe.skipIf(skip).each<ExitProgram>(['auto', 'live'])('the table is the truth (real kernel, ground-truth workloads, exit program %s)', (program) => {
  it('matches what every process did: zombies, codes, signals, a renamed last thread, forks without exec', async () => {
    const name = `ltgt-${program}`;
    const py = python(name);
    // Before lifetop: a parent with four unreaped zombies (exited 3, 4, 5; killed by SIGTERM), and one to be killed later.
    const zparent = start(py, ZOMBIE_MAKER);
    const zombies = (await firstLine(zparent)).split(' ').map(Number);
    await until('the zombies', () => zombies.every((pid) => procState(pid) === 'Z'));
    const preKilled = start(py, SLEEPER);
    await until('the pre-started sleeper', () => procState(preKilled.pid!) !== null);

    const file = path.join(dir, `truth-${program}.json`);
    const lt = snapshotRun(file, ['-f', name, '--duration', '6'], program);
    await lt.ready;
    expectProgram(lt.stderr(), program);

    // During the run.
    const longLived = start(py, SLEEPER);
    const coded = start(py, 'import sys; sys.exit(7)');
    const termed = start(py, SLEEPER);
    const leaderFirst = start(py, LEADER_FIRST);
    const forker = start(py, FORK_NO_EXEC);
    const forkChild = Number(await firstLine(forker));
    await until('the sleepers', () => procState(termed.pid!) !== null && procState(longLived.pid!) !== null);
    termed.kill('SIGTERM');
    preKilled.kill('SIGKILL');
    expect((await exited(coded)).code).toBe(7);
    expect((await exited(termed)).signal).toBe('SIGTERM');
    expect((await exited(leaderFirst)).code).toBe(9);
    expect((await exited(forker)).code).toBe(0);
    await exited(preKilled);
    expect(procState(0 + forkChild)).toBeNull(); // reaped by its parent
    expect(lt.child.exitCode, 'the workload must finish before the snapshot is taken').toBeNull();

    expect(await lt.done).toBe(0);
    const snap = readSnapshot(file);
    const expectRow = (pid: number, want: Partial<Row>) => expect(rowOf(snap, pid), `pid ${pid}`).toMatchObject(want);

    expectRow(zparent.pid!, { state: 'running', origin: 'seeded' });
    zombies.slice(0, 3).forEach((pid, i) => expectRow(pid, { state: 'exited', exit_code: 3 + i, signal: 0, origin: 'seeded', exit_from: 'proc' }));
    // Killed before lifetop started: the signal from /proc's status, with no sender to name.
    expectRow(zombies[3], { state: 'exited', exit_code: 0, signal: 15, reason: 'signal', killed_by: null, origin: 'seeded', exit_from: 'proc' });
    expectRow(preKilled.pid!, { state: 'exited', signal: 9, origin: 'seeded', exit_from: 'kernel' });
    expectRow(longLived.pid!, { state: 'running', origin: 'event', comm: name });
    expectRow(coded.pid!, { state: 'exited', exit_code: 7, signal: 0, exit_from: 'kernel' });
    expectRow(termed.pid!, { state: 'exited', signal: 15, exit_from: 'kernel' });
    // The process's name, not that of the renamed thread that died last.
    expectRow(leaderFirst.pid!, { state: 'exited', exit_code: 9, comm: name });
    expectRow(forker.pid!, { state: 'exited', exit_code: 0 });
    expectRow(forkChild, { state: 'exited', exit_code: 2, ppid: forker.pid! });
    expect(ghosts(snap, name)).toEqual([]);
    expect(snap.counters).toMatchObject({ lost_kernel_ring: 0, lost_addon_queue: 0, lost_traced_map: 0, zombie_exits: 4 });
  });
});

const FLOOD = [
  'import os',
  'for _ in range(3000):',
  '    pid = os.fork()',
  '    if pid == 0: os._exit(0)',
  '    os.waitpid(pid, 0)',
].join('\n');

/** Pids of our name with an exec in the stream and no exit after it. */
function openPids(evs: { type: string; pid: number; comm: string }[], comm: string): Set<number> {
  const open = new Set<number>();
  for (const e of evs) {
    if (e.type === 'exec' && e.comm === comm) open.add(e.pid);
    if (e.type === 'exit') open.delete(e.pid);
  }
  return open;
}

/**
 * Freezes lifetop (SIGSTOP) once it has reported a first sleeper (`seen`), overflows its small ring,
 * starts and kills processes meanwhile (that sleeper too, its exit lost in the overflow), thaws it.
 */
async function frozenStorm(
  pid: number, py: string, seen: (pid: number) => Promise<unknown>,
): Promise<{ survivors: ChildProcess[]; killed: ChildProcess[]; before: ChildProcess }> {
  const before = start(py, SLEEPER);
  await seen(before.pid!);
  process.kill(pid, 'SIGSTOP');
  await until('lifetop to stop', () => procState(pid) === 'T');
  try {
    expect((await exited(start(py, FLOOD))).code).toBe(0);
    const survivors = [start(py, SLEEPER), start(py, SLEEPER), start(py, SLEEPER)];
    const killed = [start(py, SLEEPER), start(py, SLEEPER), start(py, SLEEPER)];
    await until('the new sleepers', () => [...survivors, ...killed].every((c) => procState(c.pid!) === 'S'));
    for (const c of [...killed, before]) c.kill('SIGKILL');
    await Promise.all([...killed, before].map(exited));
    return { survivors, killed, before };
  } finally {
    process.kill(pid, 'SIGCONT');
  }
}

describe.skipIf(skip).each<ExitProgram>(['auto', 'live'])('healing after lost events (consumer frozen, small ring overflowed, exit program %s)', (program) => {
  let lt: Running | undefined;
  afterEach(async () => {
    if (lt) await stopLifetop(lt);
    lt = undefined;
  });

  it('--snapshot: reports the loss, recovers what started meanwhile, shows nothing dead as running', async () => {
    const name = `ltflt-${program}`;
    const py = python(name);
    const file = path.join(dir, `fault-${program}.json`);
    const rec = path.join(dir, `fault-${program}.ndjson`); // where to see what lifetop has read so far
    const run = snapshotRun(file, ['-f', name, '--ring-size', '0.015625', '--duration', '8', '--record', rec], program);
    await run.ready;
    expectProgram(run.stderr(), program);
    const recorded = (pid: number) => until(`lifetop to record the exec of ${pid}`, () => fs.existsSync(rec)
      && fs.readFileSync(rec, 'utf8').split('\n').slice(0, -1) // whole lines only
        .some((l) => { const r = JSON.parse(l) as { type: string; pid?: number }; return r.type === 'exec' && r.pid === pid; }));
    const { survivors, killed, before } = await frozenStorm(run.child.pid!, py, recorded);
    expect(await run.done).toBe(0);
    const snap = readSnapshot(file);
    expect(snap.counters.lost_kernel_ring).toBeGreaterThan(0);
    for (const s of survivors) expect(rowOf(snap, s.pid!), `survivor ${s.pid}`).toMatchObject({ state: 'running' });
    expect(survivors.some((s) => rowOf(snap, s.pid!)?.origin === 'recovered')).toBe(true);
    expect(rowOf(snap, before.pid!), 'the sleeper seen before the freeze').toBeDefined();
    for (const k of [...killed, before]) expect(rowOf(snap, k.pid!)?.state ?? 'absent', `killed ${k.pid}`).not.toBe('running');
    expect(ghosts(snap, name)).toEqual([]);
  });

  it('--json: a lost record says where the gap is; recovered and inferred events close it', async () => {
    const name = `ltfj-${program}`;
    const py = python(name);
    lt = await startLifetop(['--json', '-f', name, '--ring-size', '0.015625'], { env: { LIFETOP_EXIT_PROGRAM: program } });
    expectProgram(lt.stderr.join(''), program);
    const { survivors, killed, before } = await frozenStorm(lt.child.pid!, py,
      (pid) => waitFor(lt!, (e) => e.some((x) => x.type === 'exec' && x.pid === pid)));
    // Within a reconcile period of the thaw, the stream closes: every process it shows started
    // and not ended is alive (a dead one got its exit, observed or inferred), the survivors are there.
    const evs = await waitFor(lt, (e) => e.some((x) => x.type === ('lost' as string))
      && survivors.every((s) => e.some((x) => x.type === 'exec' && x.pid === s.pid))
      && [...openPids(e, name)].every((pid) => procState(pid) !== null));
    const lost = evs.find((x) => x.type === ('lost' as string)) as unknown as { stage: string; count: number; since: string; until: string };
    expect(lost.stage).toBe('kernel_ring');
    expect(lost.count).toBeGreaterThan(0);
    expect(Date.parse(lost.until)).toBeGreaterThanOrEqual(Date.parse(lost.since));
    const open = openPids(evs, name);
    expect(open.has(before.pid!)).toBe(false);
    for (const k of killed) expect(open.has(k.pid!)).toBe(false);
  });
});

describe.skipIf(skip)('the exit program of kernels before 6.16, forced', () => {
  it('is the one loaded when LIFETOP_EXIT_PROGRAM=live', async () => {
    const r = spawnSync(process.execPath, [BIN, '--snapshot', path.join(dir, 'x.json'), '--duration', '0.1', '--verbose'], {
      env: { ...process.env, LIFETOP_EXIT_PROGRAM: 'live' }, encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('exit program live');
  });
});

describe.skipIf(skip)('recordings replay whole', () => {
  it("a -f '*' recording made with --json replays every recorded process, without -f", async () => {
    const file = path.join(dir, 'all.ndjson');
    const rec = spawn(process.execPath, [BIN, '--json', '-f', '*', '--record', file, '--duration', '2'], { stdio: ['ignore', 'ignore', 'inherit'] });
    const recDone = new Promise<number | null>((resolve) => rec.on('exit', resolve));
    await until('the recording to start', () => fs.existsSync(file) && fs.statSync(file).size > 0);
    for (let i = 0; i < 3; i++) await exited(spawn('sh', ['-c', 'true; (true)'], { stdio: 'ignore' }));
    expect(await recDone).toBe(0);
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; seeded?: boolean; pid: number });
    expect(lines[0].type).toBe('header');
    const recorded = lines.slice(1).filter((r) => !r.seeded);
    expect(recorded.filter((r) => r.type === 'fork').length).toBeGreaterThan(0);

    const replay = spawnSync(process.execPath, [BIN, '--json', '--replay', file], { encoding: 'utf8', maxBuffer: 1 << 28 });
    expect(replay.status).toBe(0);
    const replayed = replay.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; pid: number });
    expect(replayed.map((r) => `${r.type}:${r.pid}`)).toEqual(recorded.map((r) => `${r.type}:${r.pid}`));

    const snapFile = path.join(dir, 'all.json');
    expect(spawnSync(process.execPath, [BIN, '--snapshot', snapFile, '--replay', file]).status).toBe(0);
    const execs = new Set(lines.filter((r) => r.type === 'exec').map((r) => r.pid));
    const rows = new Set(readSnapshot(snapFile).processes.map((r) => r.pid));
    expect([...execs].filter((pid) => !rows.has(pid))).toEqual([]);
  });
});
