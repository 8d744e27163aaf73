// Healing after a loss, with the kernel's traced set full: a heal's own track() failures are
// counted and reported as traced_map loss, but never ask for another heal. A fake source (a map
// that is always full), real processes, real /proc; the session's timers are faked so "no second
// heal" is checked over many reconcile periods without waiting for them.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Session } from '../../src/session';
import type { Counters, FollowingSource, LostRecord, StreamRecord } from '../../src/core/types';
import { Children, firstLine, pythonAs } from '../support/workload';

/** A kernel source whose traced set is full: every track() fails, as the addon counts it. */
class FullMapSource implements FollowingSource {
  readonly kind = 'bpf' as const;
  readonly c: Counters = {
    forks: 0, threads: 0, execs: 0, exits: 0, tracedForks: 0, tracedExecs: 0, tracedExits: 0, drops: 0, trackFails: 0, queueDrops: 0,
  };
  /** Every track() call, seeding's and heals'. */
  readonly tracks: number[][] = [];
  start(): void {}
  stop(): void {}
  setFilter(): void {}
  counters(): Counters { return { ...this.c }; }
  track(procs: { pid: number; start: number }[]): number {
    this.tracks.push(procs.map((p) => p.pid));
    this.c.trackFails += procs.length;
    return procs.length;
  }
}

const PERIODS_MS = 20_000; // several reconcile periods (3 s) and loss reports (1 s)
let dir: string;
const children = new Children();

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifetop-heal-'));
});
afterEach(() => {
  vi.useRealTimers();
  children.killAll();
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A sleeping python under `name`, once it runs under that name. */
async function sleeper(name: string): Promise<number> {
  const child = children.start(pythonAs(dir, name), 'import time; print(1, flush=True); time.sleep(60)');
  await firstLine(child);
  return child.pid!;
}

function lostRecords(session: Session): LostRecord[] {
  const out: LostRecord[] = [];
  session.on('records', (rs: StreamRecord[]) => out.push(...rs.filter((r): r is LostRecord => r.type === 'lost')));
  return out;
}

describe('a heal when the traced map is full', () => {
  it('runs once per real loss; its own track() failures are reported as loss, not healed again', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const src = new FullMapSource();
    const filter = { patterns: ['lthl-py'], followChildren: true };
    const session = new Session(src, { filter, retentionMs: 60_000, maxRows: 1000 });
    const lost = lostRecords(session);
    session.start();
    try {
      expect(src.tracks).toEqual([]); // nothing of ours ran at seeding
      // A process starts while the ring is full: its exec is lost (5 events, say).
      const a = await sleeper('lthl-py');
      src.c.drops += 5;
      await vi.advanceTimersByTimeAsync(PERIODS_MS);
      expect(src.tracks).toEqual([[a]]);
      expect(session.table.get([...session.table.running()].find((r) => r.pid === a)!.key)?.recovered).toBe(true);
      // Another real loss: exactly one more heal, which finds what started meanwhile.
      const b = await sleeper('lthl-py');
      src.c.drops += 3;
      await vi.advanceTimersByTimeAsync(PERIODS_MS);
      expect(src.tracks).toEqual([[a], [b]]);
      // The failures are loss all the same: counted, and in the stream.
      expect(session.snapshotCounters()).toMatchObject({ lost_kernel_ring: 8, lost_traced_map: 2, recovered: 2 });
      const sum = (stage: string) => lost.filter((r) => r.stage === stage).reduce((n, r) => n + r.count, 0);
      expect([sum('kernel_ring'), sum('traced_map')]).toEqual([8, 2]);
    } finally {
      session.stop();
    }
  });

  it('does not loop in launch mode, where rows -f narrows away are found again by every heal', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const root = await sleeper('lthl-root');
    const src = new FullMapSource();
    const filter = { patterns: [], followChildren: true, pids: [root] };
    const session = new Session(src, { filter, retentionMs: 60_000, maxRows: 1000, launch: { narrow: ['nothing-matches'] } });
    session.start();
    try {
      expect(src.tracks).toEqual([[root]]); // seeding tracks the held process: the map is full, a loss
      await vi.advanceTimersByTimeAsync(PERIODS_MS);
      // One heal for that loss; its track() fails too, and that is not healed again.
      expect(src.tracks).toEqual([[root], [root]]);
      expect(session.snapshotCounters().lost_traced_map).toBe(2);
    } finally {
      session.stop();
    }
  });
});
