// Real BPF, real processes: what `lifetop --json` reports for exits with codes
// and signals, threads, forks, argv truncation and the pyenv shim chain.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  bpfUnavailable, REAL_PYTHON, run, skipReason, startLifetop as start, stopLifetop, waitFor, type JsonEvent, type Running,
} from '../support/lifetop';

const skip = skipReason(bpfUnavailable());

// Both exit programs: the one this kernel picks, and the one kernels before 6.16 load (forced).
describe.skipIf(skip).each(['auto', 'live'])('kernel events (lifetop --json, exit program %s)', (program) => {
  let lt: Running | undefined;
  const startLifetop = (args: string[]) => start(args, { env: { LIFETOP_EXIT_PROGRAM: program } });
  afterEach(async () => {
    if (lt) await stopLifetop(lt);
    lt = undefined;
  });

  /**
   * Runs one more traced process and waits for its exit: events arrive in order, so once it is in,
   * everything the processes that ended before it started would ever report (a second exit too) is in.
   */
  async function barrier(tracer: Running): Promise<JsonEvent[]> {
    const sentinel = await run(REAL_PYTHON, ['-c', 'pass', 'lifetop-sentinel']);
    return waitFor(tracer, (e) => e.some((x) => x.type === 'exit' && x.pid === sentinel.pid));
  }

  it('reports exec with filename and args, and the exit code, paired by (pid, start)', async () => {
    lt = await startLifetop(['--json', '--filter', 'python*']);
    const p = await run(REAL_PYTHON, ['-c', 'import sys; sys.exit(3)', 'marker-exit3']);
    const evs = await waitFor(lt, (e) => e.some((x) => x.type === 'exit' && x.pid === p.pid));
    const exec = evs.find((x) => x.type === 'exec' && x.pid === p.pid)!;
    const exit = evs.find((x) => x.type === 'exit' && x.pid === p.pid)!;
    expect(exec.filename).toBe(REAL_PYTHON);
    expect(exec.args).toEqual([REAL_PYTHON, '-c', 'import sys; sys.exit(3)', 'marker-exit3']);
    expect(exec.args_truncated).toBe(false);
    expect(exec.comm).toMatch(/^python/);
    expect(exit.exit_code).toBe(3);
    expect(exit.signal).toBe(0);
    expect(exit.start).toBe(exec.start);
    expect(exit.duration_ms).toBeGreaterThan(0);
    expect(Date.parse(exit.time)).toBeGreaterThanOrEqual(Date.parse(exec.time));
    expect(Math.abs(Date.parse(exec.time) - Date.now())).toBeLessThan(60_000); // boot clock converted to wall clock
    expect(evs.filter((x) => x.type === 'exit' && x.pid === p.pid)).toHaveLength(1);
  });

  it('reports the signal of a process killed by SIGKILL', async () => {
    lt = await startLifetop(['--json', '--filter', 'python*']);
    const child = spawn(REAL_PYTHON, ['-c', 'import time; time.sleep(30)'], { stdio: 'ignore' });
    await waitFor(lt, (e) => e.some((x) => x.type === 'exec' && x.pid === child.pid));
    child.kill('SIGKILL');
    const evs = await waitFor(lt, (e) => e.some((x) => x.type === 'exit' && x.pid === child.pid));
    const exit = evs.find((x) => x.type === 'exit' && x.pid === child.pid)!;
    expect(exit.signal).toBe(9);
    expect(exit.exit_code).toBe(0);
  });

  it('reports exactly one exit for a multi-threaded process, whichever thread dies last', async () => {
    lt = await startLifetop(['--json', '--filter', 'python*']);
    // Threads finish before main; then main exits while a daemon thread still runs.
    const a = await run(REAL_PYTHON, ['-c', [
      'import threading, time',
      'ts = [threading.Thread(target=time.sleep, args=(0.05,)) for _ in range(4)]',
      '[t.start() for t in ts]; [t.join() for t in ts]',
      'threading.Thread(target=time.sleep, args=(30,), daemon=True).start()',
      'raise SystemExit(7)',
    ].join('\n')]);
    // Forced, the pre-6.16 program is loaded; otherwise whichever this kernel has.
    const loaded = /exit program (\w+)/.exec(lt.stderr.join(''))?.[1];
    expect(loaded).toMatch(program === 'live' ? /^live$/ : /^(live|group_dead)$/);
    // The leader thread exits alone (pthread_exit); a worker thread ends the group later with 5.
    const b = await run(REAL_PYTHON, ['-c', [
      'import ctypes, os, threading, time',
      'threading.Thread(target=lambda: (time.sleep(0.3), os._exit(5))).start()',
      'ctypes.CDLL(None).pthread_exit(None)',
    ].join('\n')]);
    expect(a.code).toBe(7);
    expect(b.code).toBe(5);
    const evs = await barrier(lt);
    const exitsA = evs.filter((x) => x.type === 'exit' && x.pid === a.pid);
    const exitsB = evs.filter((x) => x.type === 'exit' && x.pid === b.pid);
    expect(exitsA).toHaveLength(1);
    expect(exitsA[0].exit_code).toBe(7);
    expect(exitsB).toHaveLength(1);
    expect(exitsB[0].exit_code).toBe(5);
    expect(evs.some((x) => x.type === 'fork' && x.pid === a.pid)).toBe(false); // threads are not forks
  });

  it('reports exactly one exit when many threads die at once (the traced-set delete is the claim)', async () => {
    lt = await startLifetop(['--json', '--filter', 'python*']);
    const code = [
      'import os, threading',
      'go = threading.Event()',
      'ts = [threading.Thread(target=go.wait, daemon=True) for _ in range(32)]',
      '[t.start() for t in ts]',
      'os._exit(3)  # every thread is torn down together',
    ].join('\n');
    const runs = await Promise.all(Array.from({ length: 8 }, () => run(REAL_PYTHON, ['-c', code])));
    const pids = runs.map((r) => r.pid);
    const evs = await barrier(lt);
    expect(pids).toHaveLength(8);
    for (const pid of pids) {
      const exits = evs.filter((x) => x.type === 'exit' && x.pid === pid);
      expect(exits.map((x) => x.exit_code)).toEqual([3]);
    }
  });

  const FORKER = [
    'import os, subprocess',
    'for i in range(3):',
    '    pid = os.fork()',
    '    if pid == 0: os._exit(i)',
    '    os.waitpid(pid, 0)',
    "subprocess.run(['sh', '-c', 'true'])",
  ].join('\n');

  it('follows children: forks without exec and a shell child are reported', async () => {
    lt = await startLifetop(['--json', '--filter', 'python*']);
    const outside = await run('sh', ['-c', 'true']);
    const p = await run(REAL_PYTHON, ['-c', FORKER]);
    const evs = await waitFor(lt, (e) => e.some((x) => x.type === 'exit' && x.pid === p.pid));
    const forks = evs.filter((x) => x.type === 'fork' && x.pid === p.pid);
    expect(forks.length).toBe(4); // 3 os.fork + the subprocess
    const children = forks.map((f) => f.child_pid);
    const childExits = evs.filter((x) => x.type === 'exit' && children.includes(x.pid));
    expect(childExits.map((x) => x.exit_code).sort()).toEqual([0, 0, 1, 2]);
    const sh = evs.find((x) => x.type === 'exec' && x.comm === 'sh' && x.ppid === p.pid);
    expect(sh?.args).toEqual(['sh', '-c', 'true']);
    expect(evs.some((x) => x.pid === outside.pid)).toBe(false);
  });

  it('with --no-children reports only the matched process', async () => {
    lt = await startLifetop(['--json', '--filter', 'python*', '--no-children']);
    const p = await run(REAL_PYTHON, ['-c', FORKER]);
    // The children ended (and were reaped) before p did: whatever they would report precedes p's exit.
    const evs = await waitFor(lt, (e) => e.some((x) => x.type === 'exit' && x.pid === p.pid));
    expect(evs.filter((x) => x.type === 'exec' && x.pid === p.pid)).toHaveLength(1);
    expect(evs.filter((x) => x.type === 'fork' && x.pid === p.pid)).toHaveLength(0);
    expect(evs.some((x) => x.ppid === p.pid)).toBe(false);
  });

  it('flags argv longer than the kernel buffer as truncated', async () => {
    lt = await startLifetop(['--json', '--filter', 'python*']);
    const long = 'x'.repeat(6000);
    const p = await run(REAL_PYTHON, ['-c', 'pass', long]);
    const evs = await waitFor(lt, (e) => e.some((x) => x.type === 'exec' && x.pid === p.pid));
    const exec = evs.find((x) => x.type === 'exec' && x.pid === p.pid)!;
    expect(exec.args_truncated).toBe(true);
    expect(exec.args!.slice(0, 2)).toEqual([REAL_PYTHON, '-c']);
    expect(exec.args!.join('\0').length).toBeLessThanOrEqual(4096);
    expect(exec.args![3].startsWith('xxxx')).toBe(true);
  });

  const shim = fs.existsSync('/root/.pyenv/shims/python3') ? null : 'python3 on PATH is not a pyenv shim here';
  it.skipIf(skipReason(shim))('sees the pyenv shim chain as one traced lineage ending in the real python', async () => {
    lt = await startLifetop(['--json', '--filter', 'python*']);
    const p = await run('python3', ['-c', 'import sys; sys.exit(4)']);
    const evs = await waitFor(lt, (e) => e.some((x) => x.type === 'exit' && x.pid === p.pid));
    const execs = evs.filter((x) => x.type === 'exec' && x.pid === p.pid);
    expect(execs[0].filename).toBe('/root/.pyenv/shims/python3');
    expect(execs.length).toBeGreaterThan(1); // env, bash, pyenv, ... exec in place
    expect(execs[execs.length - 1].filename).toBe(REAL_PYTHON);
    expect(new Set(execs.map((x) => x.start)).size).toBe(1); // one process throughout
    const exits = evs.filter((x) => x.type === 'exit' && x.pid === p.pid);
    expect(exits).toHaveLength(1);
    expect(exits[0].exit_code).toBe(4);
  });
});
