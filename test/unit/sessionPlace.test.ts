// Where the session places an exec: the kernel's cgroup ids through a resolver over a cgroup tree of
// the test's own, and /proc when the ids cannot say more than "the root" (a v2 root without a v1
// memory hierarchy: /proc/PID/cgroup then has the v1 controllers' paths, cpu's among them).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { parseProcCgroup, pickCgroup } from '../../src/core/cgroup';
import type { Counters, EventSource, StreamRecord } from '../../src/core/types';
import { Session } from '../../src/session';
import { CgroupResolver } from '../../src/source/cgroups';
import { readStat } from '../../src/source/procfs';
import { exec } from '../support/events';

const ZERO: Counters = {
  forks: 0, threads: 0, execs: 0, exits: 0, tracedForks: 0, tracedExecs: 0, tracedExits: 0, drops: 0, trackFails: 0, queueDrops: 0,
};

/** A kernel-kind source that delivers what the test pushes. */
function source(): EventSource & { push(r: StreamRecord[]): void } {
  let deliver: (r: StreamRecord[]) => void = () => undefined;
  return {
    kind: 'bpf', start: (fn) => (deliver = fn), stop: () => undefined, setFilter: () => undefined, counters: () => ZERO,
    push: (r) => deliver(r),
  };
}

describe('Session: where an exec ran', () => {
  it('asks /proc when the kernel ids only say "/" and no v1 memory hierarchy is mounted', async () => {
    const tree = fs.mkdtempSync(path.join(os.tmpdir(), 'lifetop-cgtree-'));
    try {
      const rootId = String(fs.statSync(tree, { bigint: true }).ino);
      const src = source();
      const session = new Session(src, {
        filter: null, retentionMs: 60_000, maxRows: 100, cgroups: new CgroupResolver({ v2: tree, memory: null }),
      });
      session.start();
      // This test process itself: /proc/self/cgroup is the truth to compare with.
      const me = readStat(process.pid)!;
      const ev = { ...exec(process.pid, 1), start: me.startTicks * 1e7, cgroupId: rootId, memcgId: '0' };
      src.push([ev]);
      const key = `${process.pid}:${me.startTicks}`;
      await vi.waitFor(() => expect(session.table.get(key)).toBeDefined(), { timeout: 5000, interval: 20 }); // applied on a tick
      session.stop();
      const p = parseProcCgroup(fs.readFileSync('/proc/self/cgroup', 'utf8'));
      const expected = pickCgroup(p.v2, p.memory, p.cpu);
      const row = session.table.get(key)!;
      expect(row.cgroup).toBe(expected === '' ? '/' : expected);
    } finally {
      fs.rmSync(tree, { recursive: true, force: true });
    }
  });
});
