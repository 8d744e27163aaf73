// The tracer under control: runtime filter changes, the ABI the decoder
// assumes, clean detach on every exit path, and the non-root error.
import { spawnSync } from 'node:child_process';
import { describe, expect, it, vi } from 'vitest';
import type { StreamRecord } from '../../src/core/types';
import { BpfSource } from '../../src/source/bpf';
import {
  BIN, bpfObjectsOf, bpfUnavailable, nobodyUnavailable, expectDetached, REAL_PYTHON, run, skipReason, startLifetop, stopLifetop,
} from '../support/lifetop';

const skip = skipReason(bpfUnavailable());

describe.skipIf(skip)('tracer control', () => {

  it('changes what arrives when the filter changes, without restarting', async () => {
    const seen: StreamRecord[] = [];
    const src = new BpfSource({ filter: { patterns: ['sleep'], followChildren: false } });
    src.start((evs) => seen.push(...evs));
    try {
      const a = await run('sleep', ['0.01']);
      src.setFilter({ patterns: ['true'], followChildren: false });
      const b = await run('sleep', ['0.01']);
      const c = await run('true', []);
      const pids = (type: string) => seen.flatMap((e) => (e.type === type && e.type !== 'lost' ? [e.pid] : []));
      // Events arrive in order: once c's exit is in, b's exec would be too.
      await vi.waitFor(() => expect(pids('exit')).toContain(c.pid), { timeout: 10_000, interval: 50 });
      expect(pids('exec')).toContain(a.pid);
      expect(pids('exit')).toContain(a.pid);
      expect(pids('exec')).not.toContain(b.pid);
      expect(pids('exec')).toContain(c.pid);
    } finally {
      src.stop();
    }
  });

  it('counts all processes and traced ones in the kernel', async () => {
    const src = new BpfSource({ filter: { patterns: ['python*'], followChildren: true } });
    src.start(() => undefined);
    try {
      const before = src.counters();
      await run('true', []);
      await run(REAL_PYTHON, ['-c', 'pass']);
      const after = await vi.waitFor(() => {
        const now = src.counters();
        expect(now.forks - before.forks).toBeGreaterThanOrEqual(2);
        expect(now.execs - before.execs).toBeGreaterThanOrEqual(2);
        expect(now.exits - before.exits).toBeGreaterThanOrEqual(2);
        expect(now.tracedExecs - before.tracedExecs).toBeGreaterThanOrEqual(1);
        expect(now.tracedExits - before.tracedExits).toBeGreaterThanOrEqual(1);
        return now;
      }, { timeout: 10_000, interval: 50 });
      expect(after.drops).toBe(0);
    } finally {
      src.stop();
    }
  });

  it.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)('detaches everything on %s', async (signal) => {
    const lt = await startLifetop(['--json']);
    let held;
    try {
      held = bpfObjectsOf(lt.child.pid!);
    } finally {
      expect(await stopLifetop(lt, signal)).toBe(0);
    }
    await expectDetached(held);
  });

  it('detaches everything when --duration ends the run', async () => {
    const lt = await startLifetop(['--json', '--duration', '1']);
    const held = bpfObjectsOf(lt.child.pid!);
    expect(await lt.exited).toBe(0);
    await expectDetached(held);
  });

  it.skipIf(skipReason(nobodyUnavailable()))('explains in one line that root is needed, with a non-zero exit', () => {
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, '--json'], {
      encoding: 'utf8', timeout: 20_000,
    });
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^lifetop: .*needs root.*CAP_BPF/);
    expect(r.stdout).toBe('');
  });
});
