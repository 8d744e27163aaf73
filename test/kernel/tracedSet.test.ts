// The kernel's traced set is keyed by (pid, start) and kept right: an entry for a process that is gone (its exit
// lost, or tracked just after it exited) never makes a later process with the same pid look
// traced. The pid is reused for real: ns_last_pid steers the next fork onto it.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { NS_PER_TICK, type StreamRecord } from '../../src/core/types';
import { BpfSource } from '../../src/source/bpf';
import { readStat } from '../../src/source/procfs';
import { bpfUnavailable, run, skipReason } from '../support/lifetop';
import { exited, LAST_PID, spawnAtPid } from '../support/workload';

const skip = skipReason(bpfUnavailable() ?? (fs.existsSync(LAST_PID) ? null : 'no /proc/sys/kernel/ns_last_pid (CONFIG_CHECKPOINT_RESTORE)'));

/** Runs `cmd` to its end as pid `pid`. */
async function runAs(pid: number, cmd: string, args: string[]): Promise<number> {
  const child = await spawnAtPid(pid, cmd, args);
  await exited(child);
  return child.pid!;
}

describe.skipIf(skip)('pid reuse', () => {
  it('a stale entry in the traced set never adopts a process that reuses its pid; a right one follows it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifetop-pidreuse-'));
    const sentinel = path.join(dir, 'ltpr-sentinel');
    fs.symlinkSync('/bin/true', sentinel);
    fs.symlinkSync('/bin/sleep', path.join(dir, 'ltpr-sleeper'));
    const seen: StreamRecord[] = [];
    const src = new BpfSource({ filter: { patterns: ['ltpr-sentinel', 'ltpr-sleeper'], followChildren: true } });
    src.start((evs) => seen.push(...evs));
    const pidsOf = (type: string) => seen.flatMap((e) => (e.type === type && e.type !== 'lost' ? [e.pid] : []));
    try {
      // A process that is gone, tracked as if seeded just after it exited: its entry is stale.
      const gone = (await run('true', [])).pid;
      src.track([{ pid: gone, start: NS_PER_TICK }]);
      expect(await runAs(gone, 'true', [])).toBe(gone); // an unrelated process, same pid
      // Events arrive in order: once the sentinel's exit is in, the reused pid's would be too.
      const s1 = (await run(sentinel, [])).pid;
      await vi.waitFor(() => expect(pidsOf('exit')).toContain(s1), { timeout: 10_000, interval: 50 });
      expect(seen.filter((e) => e.type !== 'lost' && e.pid === gone)).toEqual([]);

      // The control: an unmatched process tracked with its own start is followed to its exit.
      const child = spawn('sleep', ['0.5'], { stdio: 'ignore' });
      const exited = new Promise((resolve) => child.on('exit', resolve));
      await vi.waitFor(() => expect(readStat(child.pid!)?.comm).toBe('sleep'), { timeout: 10_000, interval: 20 });
      src.track([{ pid: child.pid!, start: readStat(child.pid!)!.startTicks * NS_PER_TICK }]);
      await exited;
      await vi.waitFor(() => expect(pidsOf('exit')).toContain(child.pid), { timeout: 10_000, interval: 50 });

      // A late track() with an older start (a /proc scan that saw the pid's previous holder) never
      // overwrites the entry the kernel made for the process that holds the pid now.
      const holder = spawn(sentinel.replace('ltpr-sentinel', 'ltpr-sleeper'), ['0.5'], { stdio: 'ignore' });
      const held = new Promise((resolve) => holder.on('exit', resolve));
      await vi.waitFor(() => expect(pidsOf('exec')).toContain(holder.pid), { timeout: 10_000, interval: 20 });
      src.track([{ pid: holder.pid!, start: NS_PER_TICK }]);
      await held;
      await vi.waitFor(() => expect(pidsOf('exit')).toContain(holder.pid), { timeout: 10_000, interval: 50 });
    } finally {
      src.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(skip)('a filter change', () => {
  it('keeps the exits of rows already shown observed by the kernel, though the new filter does not match them', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifetop-refilter-'));
    const sleeper = path.join(dir, 'ltrf-sleeper');
    fs.symlinkSync('/bin/sleep', sleeper);
    const { Session } = await import('../../src/session');
    const session = new Session(new BpfSource({ filter: { patterns: ['ltrf-sleeper'], followChildren: true } }), {
      filter: { patterns: ['ltrf-sleeper'], followChildren: true }, retentionMs: 60_000, maxRows: 1000,
    });
    session.start();
    try {
      const child = spawn(sleeper, ['30'], { stdio: 'ignore' });
      const row = () => session.table.view({ sort: { column: 'pid', descending: false }, query: '', showExited: true }, Date.now())
        .find((r) => r.pid === child.pid);
      await vi.waitFor(() => expect(row()?.state).toBe('running'), { timeout: 10_000, interval: 50 });
      session.setFilter({ patterns: ['nothing-matches'], followChildren: true });
      child.kill('SIGTERM');
      await vi.waitFor(() => expect(row()).toMatchObject({ state: 'exited', signal: 15, exitFromProc: false }), { timeout: 10_000, interval: 50 });
      expect(session.inferred.vanished).toBe(0);
    } finally {
      session.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(skip)('--pid', () => {
  it('traces the named process and its descendants, whatever their comm, and nothing else', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifetop-pid-'));
    const py = path.join(dir, 'ltpid-py');
    fs.symlinkSync('/usr/bin/python3', py);
    // Forks one child before lifetop starts (seeded), one after it is told to (observed, exit 6).
    const code = [
      'import os, sys, time',
      'k = os.fork()',
      'if k == 0: time.sleep(30); os._exit(0)',
      'print(k, flush=True)',
      'sys.stdin.readline()',
      'k2 = os.fork()',
      'if k2 == 0: os._exit(6)',
      'os.waitpid(k2, 0)',
      'print(k2, flush=True)',
      'time.sleep(30)',
    ].join('\n');
    const parent = spawn(py, ['-c', code], { stdio: ['pipe', 'pipe', 'inherit'] });
    const out: string[] = [];
    parent.stdout!.setEncoding('utf8').on('data', (c: string) => out.push(...c.split('\n').filter(Boolean)));
    const { startLifetop, stopLifetop, waitFor, run: runIt } = await import('../support/lifetop');
    let lt: Awaited<ReturnType<typeof startLifetop>> | undefined;
    try {
      await vi.waitFor(() => expect(out.length).toBe(1), { timeout: 10_000, interval: 20 });
      const before = Number(out[0]);
      lt = await startLifetop(['--json', '--pid', String(parent.pid)]);
      parent.stdin!.write('go\n');
      await vi.waitFor(() => expect(out.length).toBe(2), { timeout: 10_000, interval: 20 });
      const after = Number(out[1]);
      const unrelated = await runIt('/usr/bin/python3', ['-c', 'pass']); // matches the default filter, not --pid
      const evs = await waitFor(lt, (e) => e.some((x) => x.type === 'exit' && x.pid === after));
      expect(evs.find((x) => x.type === 'fork' && x.child_pid === after)).toMatchObject({ pid: parent.pid });
      expect(evs.find((x) => x.type === 'exit' && x.pid === after)).toMatchObject({ exit_code: 6 });
      expect(evs.some((x) => x.pid === unrelated.pid)).toBe(false);
      expect(lt.stderr.join('')).toContain(`tracing pid ${parent.pid}`);
      // The one forked before start was seeded: its exit is followed too.
      process.kill(before, 'SIGTERM');
      const ended = await waitFor(lt, (e) => e.some((x) => x.type === 'exit' && x.pid === before));
      expect(ended.find((x) => x.type === 'exit' && x.pid === before)).toMatchObject({ signal: 15 });
    } finally {
      if (lt) await stopLifetop(lt);
      parent.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
