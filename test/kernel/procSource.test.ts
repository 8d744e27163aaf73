// `--source proc` for users without BPF privileges: run as nobody, a python
// process that lives longer than the polling interval appears, and so does its exit.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AS_NOBODY, BIN, nobodyUnavailable, REAL_PYTHON, skipReason, startLifetop, stopLifetop, waitFor, type Running,
} from '../support/lifetop';

describe.skipIf(skipReason(nobodyUnavailable()))('the /proc source as an unprivileged user', () => {
  let lt: Running | undefined;
  afterEach(async () => {
    if (lt) await stopLifetop(lt);
    lt = undefined;
  });

  it('streams exec and exit of a long-running python process, and says what it misses', async () => {
    lt = await startLifetop(['--source', 'proc', '--interval', '0.2', '--json', '--filter', 'python*'], { prefix: AS_NOBODY });
    expect(lt.stderr.join('')).toMatch(/processes shorter than that are missed/);
    const kid = spawn(REAL_PYTHON, ['-c', 'import time; time.sleep(1.5)', 'proc-source-marker'], { stdio: 'ignore' });
    const evs = await waitFor(lt, (e) => e.some((x) => x.type === 'exit' && x.pid === kid.pid));
    const exec = evs.find((x) => x.type === 'exec' && x.pid === kid.pid)!;
    expect(exec.args).toEqual([REAL_PYTHON, '-c', 'import time; time.sleep(1.5)', 'proc-source-marker']);
    const exit = evs.find((x) => x.type === 'exit' && x.pid === kid.pid)! as { start: number; duration_ms: number; unknown_status?: boolean };
    expect(exit.start).toBe(exec.start);
    expect(exit.unknown_status).toBe(true); // /proc cannot know the exit status: said, not invented
    expect(exit.duration_ms).toBeGreaterThan(1000);
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
