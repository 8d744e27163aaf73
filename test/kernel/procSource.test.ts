// `--source proc` for users without BPF privileges: run as nobody, a python process
// appears with its exit, and so do short-lived ones that scans on program starts catch.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AS_NOBODY, BIN, events, nobodyUnavailable, REAL_PYTHON, run, skipReason, startLifetop, stopLifetop, waitFor,
  type JsonEvent, type Running,
} from '../support/lifetop';

describe.skipIf(skipReason(nobodyUnavailable()))('the /proc source as an unprivileged user', () => {
  let lt: Running | undefined;
  afterEach(async () => {
    if (lt) await stopLifetop(lt);
    lt = undefined;
  });

  it('streams exec and exit of a long-running python process, and says what it misses', async () => {
    lt = await startLifetop(['--source', 'proc', '--interval', '0.2', '--json', '--filter', 'python*'], { prefix: AS_NOBODY });
    expect(lt.stderr.join('')).toMatch(/polling \/proc on program starts and every 0.2s: processes shorter than ~30 ms may be missed; exit status unknown/);
    const kid = spawn(REAL_PYTHON, ['-c', 'import time; time.sleep(1.5)', 'proc-source-marker'], { stdio: 'ignore' });
    const evs = await waitFor(lt, (e) => e.some((x) => x.type === 'exit' && x.pid === kid.pid));
    const exec = evs.find((x) => x.type === 'exec' && x.pid === kid.pid)!;
    expect(exec.args).toEqual([REAL_PYTHON, '-c', 'import time; time.sleep(1.5)', 'proc-source-marker']);
    const exit = evs.find((x) => x.type === 'exit' && x.pid === kid.pid)! as { start: number; duration_ms: number; unknown_status?: boolean };
    expect(exit.start).toBe(exec.start);
    expect(exit.unknown_status).toBe(true); // /proc cannot know the exit status: said, not invented
    expect(exit.duration_ms).toBeGreaterThan(1000);
  });

  // Ground truth: 30 pythons of ~0.15 s each, far shorter than the 0.5 s poll; the scans the
  // file system triggers (exec and library opens) must see at least 29 of them, exit included.
  it('catches short-lived processes between polls', async () => {
    lt = await startLifetop(['--source', 'proc', '--json', '--filter', 'python3*'], { prefix: AS_NOBODY });
    const python = '/usr/bin/python3'; // comm "python3"; the one on PATH may be a shim with another name
    const pids: number[] = [];
    for (let i = 0; i < 30; i++) pids.push((await run(python, ['-c', 'import time; time.sleep(0.1)'])).pid);
    const seen = (evs: JsonEvent[], type: 'exec' | 'exit') =>
      new Set(evs.filter((e) => e.type === type && pids.includes(e.pid)).map((e) => e.pid));
    // Wait for every exec and exit; on timeout judge what came (the bound is not the assertion).
    const evs = await waitFor(lt, (e) => seen(e, 'exec').size === 30 && seen(e, 'exit').size === 30, 5_000)
      .catch(() => events(lt!));
    const execs = seen(evs, 'exec');
    expect(execs.size, `seen ${execs.size} of 30 execs`).toBeGreaterThanOrEqual(29);
    for (const e of evs.filter((x) => x.type === 'exec' && pids.includes(x.pid))) {
      expect(e).toMatchObject({ comm: 'python3', args: [python, '-c', 'import time; time.sleep(0.1)'] });
    }
    expect([...execs].filter((pid) => !seen(evs, 'exit').has(pid))).toEqual([]);
  });

  // The caveat's bound: processes that live ~40 ms (a bit over the ~30 ms it names) are caught,
  // 29 of 30 at least. /bin/sleep under a name of its own, so nothing else running mixes in.
  it('catches processes just longer than the ~30 ms the caveat names', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifetop-short-'));
    fs.chmodSync(dir, 0o755);
    const sleeper = path.join(dir, 'ltps-sleep');
    fs.symlinkSync('/bin/sleep', sleeper);
    try {
      lt = await startLifetop(['--source', 'proc', '--json', '--filter', 'ltps-sleep'], { prefix: AS_NOBODY });
      const pids: number[] = [];
      for (let i = 0; i < 30; i++) pids.push((await run(sleeper, ['0.04'])).pid);
      const execs = (evs: JsonEvent[]) => new Set(evs.filter((e) => e.type === 'exec' && pids.includes(e.pid)).map((e) => e.pid));
      const exits = (evs: JsonEvent[]) => new Set(evs.filter((e) => e.type === 'exit' && pids.includes(e.pid)).map((e) => e.pid));
      // Every exec seen has its exit (a later poll); on timeout judge what came.
      const evs = await waitFor(lt, (e) => execs(e).size === 30 && exits(e).size === 30, 5_000).catch(() => events(lt!));
      expect(execs(evs).size, `seen ${execs(evs).size} of 30 execs`).toBeGreaterThanOrEqual(29);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  // Not root: the unit test in test/unit/snapshot.test.ts covers this directly.
  it.skipIf(AS_NOBODY.length === 0)('keeps the old snapshot and says why when the directory is not writable', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifetop-ro-'));
    fs.chmodSync(dir, 0o755); // readable, not writable, by nobody
    const file = path.join(dir, 'snap.json');
    fs.writeFileSync(file, 'old');
    try {
      const fixture = path.join(__dirname, '..', 'fixtures', 'session.ndjson');
      const argv = [...AS_NOBODY, process.execPath, BIN, '--replay', fixture, '--snapshot', file];
      const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 20_000 });
      expect(r.status).toBe(1);
      expect(r.stderr.trim().split('\n')).toEqual([`lifetop: cannot write snapshot ${file}: no permission to write in ${dir}`]);
      expect(fs.readFileSync(file, 'utf8')).toBe('old');
      expect(fs.readdirSync(dir)).toEqual(['snap.json']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('builds the same table for a snapshot', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifetop-proc-'));
    fs.chmodSync(dir, 0o777);
    const file = path.join(dir, 'proc.json');
    const kid = spawn(REAL_PYTHON, ['-c', 'import time; time.sleep(5)', 'proc-snapshot-marker'], { stdio: 'ignore' });
    try {
      const argv = [...AS_NOBODY, process.execPath, BIN, '--source', 'proc', '--snapshot', file, '--duration', '1'];
      const code = await new Promise<number | null>((resolve) =>
        spawn(argv[0], argv.slice(1), { stdio: 'ignore' }).on('exit', resolve));
      expect(code).toBe(0);
      const snap = JSON.parse(fs.readFileSync(file, 'utf8')) as { processes: { pid: number; state: string; label: string }[] };
      const row = snap.processes.find((p) => p.pid === kid.pid);
      expect(row).toMatchObject({ state: 'running', label: "-c 'import time; time.sleep(5)'" });
    } finally {
      kid.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
