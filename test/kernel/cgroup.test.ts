// Where it ran, against the real kernel: a python placed in a v1 memory cgroup made here (a hybrid
// machine: the v2 path is the root, so the memory controller's path counts) shows that cgroup and
// unit in --json exec events (read at exec by the kernel, resolved by inode), in a snapshot (read
// from /proc/PID/cgroup for seeded rows) and through --replay; one in the root cgroup shows none;
// --unit keeps only the cgroup's process. The cgroup is removed afterwards.
import { spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN, bpfUnavailable, skipReason, startLifetop, stopLifetop, waitFor, type JsonEvent, type Running } from '../support/lifetop';
import { Children, firstLine, pythonAs } from '../support/workload';

const CGROUP_V1 = '/sys/fs/cgroup/memory';
const noMemcg = !fs.existsSync(path.join(CGROUP_V1, 'cgroup.procs')) ? 'no cgroup v1 memory controller at /sys/fs/cgroup/memory' : null;
const skip = skipReason(bpfUnavailable()) || skipReason(noMemcg);

const CG_NAME = `lifetop-cg-${process.pid}`;
const CG = path.join(CGROUP_V1, CG_NAME);
const SLEEP = "import time; print('ready', flush=True); time.sleep(5)";

let dir: string;
const children = new Children();
const running: Running[] = [];

/** sh moves itself into the cgroup directory `into`, then execs python (same pid) under `name`. */
function inCgroup(into: string, name: string): ChildProcess {
  const link = pythonAs(dir, name);
  return children.start('/bin/sh', `echo $$ > ${into}/cgroup.procs && exec ${link} -c "${SLEEP}"`, [], { cwd: dir });
}

async function lifetop(args: string[]): Promise<Running> {
  const lt = await startLifetop(args);
  running.push(lt);
  return lt;
}

function execOf(evs: JsonEvent[], pid: number): JsonEvent & { cgroup?: string; unit?: string; comm: string } {
  return evs.find((e) => e.type === 'exec' && e.pid === pid && (e as { comm?: string }).comm !== 'sh') as never;
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifetop-cg-'));
  if (!skip) fs.mkdirSync(CG);
});

afterEach(async () => {
  for (const lt of running.splice(0)) await stopLifetop(lt);
  children.killAll();
});

afterAll(async () => {
  children.killAll();
  if (!skip) {
    for (let i = 0; i < 100 && fs.existsSync(CG); i++) {
      try {
        fs.rmdirSync(CG); // EBUSY until the killed children are gone
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    expect(fs.existsSync(CG), `cgroup ${CG} removed`).toBe(false);
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(skip)('where it ran: a v1 memory cgroup made here, and the root cgroup', () => {
  it('shows the cgroup and unit in --json exec events and the replay; the root one shows "/" and ""; --unit keeps only the cgroup', async () => {
    const rec = path.join(dir, 'cg.ndjson');
    const all = await lifetop(['--json', '-f', 'ltcg*', '--record', rec]);
    const only = await lifetop(['--json', '-f', 'ltcg*', '--unit', CG_NAME]);
    const inside = inCgroup(CG, 'ltcg-in');
    const outside = inCgroup(CGROUP_V1, 'ltcg-out'); // the memory hierarchy's root
    await Promise.all([firstLine(inside), firstLine(outside)]);

    const evs = await waitFor(all, (e) => !!execOf(e, inside.pid!) && !!execOf(e, outside.pid!));
    expect(execOf(evs, inside.pid!)).toMatchObject({ comm: 'ltcg-in', cgroup: `/${CG_NAME}`, unit: CG_NAME });
    expect(execOf(evs, outside.pid!)).toMatchObject({ comm: 'ltcg-out', cgroup: '/', unit: '' });

    await waitFor(only, (e) => !!execOf(e, inside.pid!));
    // A later exec in the cgroup is the barrier: events arrive in order, so the outside one would be in by then.
    const barrier = inCgroup(CG, 'ltcg-bar');
    await firstLine(barrier);
    const filtered = (await waitFor(only, (e) => !!execOf(e, barrier.pid!))).filter((e) => e.type === 'exec' && e.comm !== 'sh');
    expect(filtered.map((e) => e.pid)).toEqual([inside.pid, barrier.pid]);

    children.killAll();
    await waitFor(all, (e) => e.some((x) => x.type === 'exit' && x.pid === inside.pid));
    const exit = (await waitFor(all, () => true)).find((x) => x.type === 'exit' && x.pid === inside.pid);
    expect(exit).toMatchObject({ cgroup: `/${CG_NAME}`, unit: CG_NAME }); // from its row
    for (const lt of running.splice(0)) await stopLifetop(lt);

    const replay = spawnSync(process.execPath, [BIN, '--json', '--replay', rec], { encoding: 'utf8' });
    expect(replay.status).toBe(0);
    const replayed = replay.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as JsonEvent);
    expect(execOf(replayed, inside.pid!)).toMatchObject({ cgroup: `/${CG_NAME}`, unit: CG_NAME });
    expect(execOf(replayed, outside.pid!)).toMatchObject({ cgroup: '/', unit: '' });
    const replayUnit = spawnSync(process.execPath, [BIN, '--json', '--replay', rec, '--unit', 'lifetop-cg-*'], { encoding: 'utf8' });
    expect(replayUnit.status).toBe(0);
    const unitPids = replayUnit.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as JsonEvent).map((e) => e.pid);
    expect(new Set(unitPids)).toEqual(new Set([inside.pid, barrier.pid]));
  });

  it('shows them in a snapshot of running processes (from /proc), and --unit narrows it', async () => {
    const inside = inCgroup(CG, 'ltcs-in');
    const outside = inCgroup(CGROUP_V1, 'ltcs-out');
    await Promise.all([firstLine(inside), firstLine(outside)]);
    const snap = (file: string, extra: string[]) => {
      const r = spawnSync(process.execPath, [BIN, '--snapshot', path.join(dir, file), '-f', 'ltcs*', '--duration', '0.5', ...extra],
        { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')).processes as { pid: number; cgroup: string; unit: string }[];
    };
    const procs = snap('all.json', []);
    expect(procs.find((p) => p.pid === inside.pid)).toMatchObject({ cgroup: `/${CG_NAME}`, unit: CG_NAME });
    expect(procs.find((p) => p.pid === outside.pid)).toMatchObject({ cgroup: '/', unit: '' });
    expect(snap('unit.json', ['--unit', CG_NAME]).map((p) => p.pid)).toEqual([inside.pid]);
    const txt = spawnSync(process.execPath, [BIN, '--snapshot', path.join(dir, 's.txt'), '-f', 'ltcs*', '--duration', '0.5'], { encoding: 'utf8' });
    expect(txt.status).toBe(0);
    expect(fs.readFileSync(path.join(dir, 's.txt'), 'utf8')).toMatch(new RegExp(`ltcs-in .* ${CG_NAME}\\s+run`));
  });
});

describe.skipIf(skip)('--unit in the kernel', () => {
  it('the kernel drops execs in cgroups known not to match, and lets a cgroup made later through to user space', async () => {
    const { BpfSource } = await import('../../src/source/bpf');
    const { unitDenyLists } = await import('../../src/source/cgroups');
    const seen: { type: string; pid: number }[] = [];
    const src = new BpfSource({ filter: { patterns: ['ltck-*'], followChildren: false } });
    src.setUnitDeny(unitDenyLists([CG_NAME]));
    src.start((evs) => seen.push(...(evs as { type: string; pid: number }[])));
    const later = path.join(CGROUP_V1, `${CG_NAME}-later`);
    try {
      const inside = inCgroup(CG, 'ltck-in');
      const outside = inCgroup(CGROUP_V1, 'ltck-out'); // the root: its unit '' does not match
      fs.mkdirSync(later); // made after the lists: unknown to the kernel, so it passes
      const fresh = inCgroup(later, 'ltck-new');
      await Promise.all([inside, outside, fresh].map(firstLine)); // all three have exec'd python
      const execd = (pid: number) => seen.some((e) => e.type === 'exec' && e.pid === pid);
      // A later exec in a matching cgroup is the barrier: events arrive in order.
      const barrier = inCgroup(CG, 'ltck-barrier');
      await firstLine(barrier);
      for (let i = 0; i < 200 && !execd(barrier.pid!); i++) await new Promise((r) => setTimeout(r, 50));
      expect(execd(barrier.pid!)).toBe(true);
      expect(execd(inside.pid!)).toBe(true);
      expect(execd(fresh.pid!)).toBe(true);
      expect(execd(outside.pid!)).toBe(false); // the kernel never sent it
      src.setUnitDeny(null);
      const again = inCgroup(CGROUP_V1, 'ltck-out2'); // the check is off: the root's process is traced
      await firstLine(again);
      for (let i = 0; i < 200 && !execd(again.pid!); i++) await new Promise((r) => setTimeout(r, 50));
      expect(execd(again.pid!)).toBe(true);
    } finally {
      src.stop();
      children.killAll();
      for (let i = 0; i < 100 && fs.existsSync(later); i++) {
        try {
          fs.rmdirSync(later);
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    }
  });
});

describe.skipIf(skip)('--unit changed or cleared in a session', () => {
  it('finds in /proc what the kernel dropped under the old units: the process appears once they allow it', async () => {
    const { BpfSource } = await import('../../src/source/bpf');
    const { Session } = await import('../../src/session');
    const filter = { patterns: ['ltcu-*'], followChildren: true };
    const session = new Session(new BpfSource({ filter }), { filter, retentionMs: 60_000, maxRows: 1000, units: [CG_NAME] });
    session.start();
    const row = (pid: number) => session.table.view({ sort: { column: 'pid', descending: false }, query: '', showExited: true }, Date.now())
      .find((r) => r.pid === pid);
    try {
      const outside = inCgroup(CGROUP_V1, 'ltcu-out'); // the root: denied in the kernel under these units
      const inside = inCgroup(CG, 'ltcu-in'); // a later exec that is let through: the barrier
      await Promise.all([firstLine(outside), firstLine(inside)]);
      for (let i = 0; i < 200 && !row(inside.pid!); i++) await new Promise((r) => setTimeout(r, 50));
      expect(row(inside.pid!)).toBeDefined();
      expect(row(outside.pid!)).toBeUndefined(); // never sent by the kernel
      session.setUnits(null);
      for (let i = 0; i < 200 && !row(outside.pid!); i++) await new Promise((r) => setTimeout(r, 50));
      expect(row(outside.pid!)).toMatchObject({ state: 'running', comm: 'ltcu-out' });
      // And it is followed from now on: its exit comes from the kernel, with its signal.
      outside.kill('SIGTERM');
      for (let i = 0; i < 200 && row(outside.pid!)?.state === 'running'; i++) await new Promise((r) => setTimeout(r, 50));
      expect(row(outside.pid!)).toMatchObject({ state: 'exited', signal: 15, exitFromProc: false });
    } finally {
      session.stop();
      children.killAll();
    }
  });
});
