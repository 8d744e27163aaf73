// Cardinality: 10 000 processes with distinct comms, the whole machine traced (-f '*'): the series
// lifetop serves stay bounded by the group cap (default 200) plus a fixed overhead; the rest is "other".
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bpfObjectsOf, bpfUnavailable, expectDetached, skipReason, startLifetop, stopLifetop, type Running } from '../support/lifetop';
import { freePort, sample, scrape, until } from '../support/prometheus';
import { exited, PYTHON } from '../support/workload';

const skip = skipReason(bpfUnavailable());
const N = 10_000;
const CAP = 200;
/** Series a group can have here: exits by reason/signal (a few), 8 buckets + +Inf + sum + count, running. */
const PER_GROUP = 16;
/** Series without a group: prom-client's process/nodejs defaults, kernel counters, loss, build info. */
const FIXED = 150;

// Spawns /bin/true under N names (symlinks: the comm is the link's name), 16 at a time, once told to.
const SPAWNER = `
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
print("ready", flush=True)
sys.stdin.readline()
live = []
for i in range(n):
    name = "lc%05d" % i
    live.append(os.posix_spawn(os.path.join(d, name), [name], {}))
    if len(live) >= 16:
        os.waitpid(live.pop(0), 0)
for p in live:
    os.waitpid(p, 0)
`;

describe.skipIf(skip)('metrics cardinality', () => {
  let dir: string;
  let lifetop: Running | undefined;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifetop-card-'));
    for (let i = 0; i < N; i++) fs.symlinkSync('/bin/true', path.join(dir, `lc${String(i).padStart(5, '0')}`));
    fs.writeFileSync(path.join(dir, 'lc_spawner.py'), SPAWNER);
  });

  afterAll(async () => {
    if (lifetop && lifetop.child.exitCode === null) await stopLifetop(lifetop, 'SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it(`keeps ${N} distinct comms under the cap of ${CAP} groups plus a fixed overhead`, async () => {
    const port = await freePort();
    lifetop = await startLifetop(['--serve', '--metrics', String(port), '-f', '*']);
    const address = `127.0.0.1:${port}`;
    const spawner = spawn(PYTHON, [path.join(dir, 'lc_spawner.py'), dir, String(N)], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve) => spawner.stdout!.once('data', () => resolve()));
      // The spawner's own group is admitted while the cap has room: it is the barrier below.
      await until('the spawner running', async () => {
        const { series } = await scrape(address);
        return sample(series, 'lifetop_running_processes', { group: 'lc_spawner.py' }) === 1 ? true : undefined;
      });
      spawner.stdin!.write('go\n');
      expect(await exited(spawner)).toEqual({ code: 0, signal: null });
      // Its exit comes after all its children's (it waited for each): once it is counted, they are.
      const { series, text } = await until('the spawner counted as exited', async () => {
        const got = await scrape(address);
        return sample(got.series, 'lifetop_exits_total', { group: 'lc_spawner.py', reason: 'ok' }) === 1 ? got : undefined;
      }, 120_000);

      const groups = new Set(series.flatMap((s) => (s.labels.group !== undefined ? [s.labels.group] : [])));
      const grouped = series.filter((s) => s.labels.group !== undefined).length;
      const ungrouped = series.length - grouped;
      expect(groups.size).toBeLessThanOrEqual(CAP + 1);
      expect(groups.has('other')).toBe(true);
      expect(sample(series, 'lifetop_metrics_groups')).toBe(CAP);
      expect(sample(series, 'lifetop_metrics_group_overflows_total')).toBeGreaterThanOrEqual(N - CAP);
      expect(sample(series, 'lifetop_exits_total', { group: 'other', reason: 'ok', signal: '' })).toBeGreaterThanOrEqual(N - CAP);
      const lc = [...groups].filter((g) => /^lc\d{5}$/.test(g));
      expect(lc.length).toBeLessThanOrEqual(CAP);
      expect(ungrouped).toBeLessThan(FIXED);
      expect(grouped).toBeLessThanOrEqual((CAP + 1) * PER_GROUP);
      expect(series.length).toBeLessThan((CAP + 1) * PER_GROUP + FIXED);
      expect(text.length).toBeLessThan(1 << 20);
      // Lost events would have ended as inferred exits: none here, or the counts above would not be the kernel's.
      expect(sample(series, 'lifetop_lost_events_total', { stage: 'kernel_ring' })).toBe(0);
      process.stderr.write(`cardinality: ${N} comms -> ${groups.size} groups, ${series.length} series `
        + `(${grouped} grouped, ${ungrouped} fixed), ${text.length} bytes\n`);
    } finally {
      if (spawner.exitCode === null) spawner.kill('SIGKILL');
    }
    const held = bpfObjectsOf(lifetop.child.pid!);
    expect(await stopLifetop(lifetop, 'SIGTERM')).toBe(0);
    await expectDetached(held);
  }, 180_000);
});
