// A stream session (--json): every listener sees each record with the table as it was applied, and
// ended rows leave the table at the next tick instead of being retained for a screen nobody shows.
import { describe, expect, it, vi } from 'vitest';
import type { Counters, EventSource, StreamRecord } from '../../src/core/types';
import { Session } from '../../src/session';
import { exec, exit, keyOf } from '../support/events';

const ZERO: Counters = {
  forks: 0, threads: 0, execs: 0, exits: 0, tracedForks: 0, tracedExecs: 0, tracedExits: 0, drops: 0, trackFails: 0, queueDrops: 0,
};

/** A replay-kind source (no /proc seeding or reconciling) that delivers what the test pushes. */
function source(): EventSource & { push(r: StreamRecord[]): void } {
  let deliver: (r: StreamRecord[]) => void = () => undefined;
  return { kind: 'replay', start: (fn) => (deliver = fn), stop: () => undefined, setFilter: () => undefined, counters: () => ZERO, push: (r) => deliver(r) };
}

async function run(stream: boolean): Promise<{ seenAtExit: string | undefined; after: number; running: boolean }> {
  const src = source();
  const session = new Session(src, { filter: null, retentionMs: 60_000, maxRows: 100, stream });
  let seenAtExit: string | undefined;
  let records = 0;
  session.on('records', (rs: StreamRecord[]) => {
    records += rs.length;
    for (const r of rs) if (r.type === 'exit') seenAtExit = session.table.get(keyOf(r.pid, 1))?.state; // as metrics look it up
  });
  session.start();
  src.push([exec(1, 1), exec(2, 1), exit(1, 1, { code: 3 })]);
  await vi.waitFor(() => expect(records).toBe(3), { timeout: 5000, interval: 10 });
  src.push([exec(3, 1)]); // a later tick
  await vi.waitFor(() => expect(records).toBe(4), { timeout: 5000, interval: 10 });
  session.stop();
  return { seenAtExit, after: session.table.counts().total, running: session.table.get(keyOf(2, 1))?.state === 'running' };
}

describe('Session: a stream keeps no ended rows', () => {
  it('drops an ended row at the next tick, after every listener saw its exit; running rows stay', async () => {
    expect(await run(true)).toEqual({ seenAtExit: 'exited', after: 2, running: true });
  });

  it('the screen keeps it for its retention', async () => {
    expect(await run(false)).toEqual({ seenAtExit: 'exited', after: 3, running: true });
  });
});
