// `lifetop --snapshot` against a real uvicorn with two workers (Debian's
// python3-uvicorn): seeded from /proc, traced from the kernel, and killed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN, bpfUnavailable, skipReason, sleep } from '../support/lifetop';

const uvicornMissing = spawnSync('/usr/bin/python3', ['-c', 'import uvicorn'], { stdio: 'ignore' }).status === 0
  ? null : "Debian's python3-uvicorn is not installed";
const skip = skipReason(bpfUnavailable() ?? uvicornMissing);

interface SnapRow {
  pid: number; ppid: number; comm: string; label: string; state: string; signal: number | null; exit_code: number | null; args: string[];
  origin: string;
}

const APP = `async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
`;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Children of pid from /proc (the workers, once uvicorn has spawned them). */
function childrenOf(pid: number): number[] {
  return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
    } catch {
      return false;
    }
  }).map(Number);
}

async function waitListening(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); }).on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error('uvicorn did not start listening');
}

/** `lifetop --snapshot FILE` for a while: ready once it says it is tracing, done when it has exited. */
function snapshot(file: string, seconds: number): { ready: Promise<void>; done: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(process.execPath, [BIN, '--snapshot', file, '--duration', String(seconds), '--verbose'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
      if (stderr.includes('lifetop: tracing')) resolve();
    });
    void done.then(() => reject(new Error(`lifetop ended before tracing: ${stderr}`)));
  });
  ready.catch(() => undefined); // a caller that only awaits done sees the failure there
  return { ready, done };
}

function rowsFor(file: string, pids: number[]): SnapRow[] {
  const snap = JSON.parse(fs.readFileSync(file, 'utf8')) as { processes: SnapRow[] };
  return snap.processes.filter((p) => pids.includes(p.pid));
}

describe.skipIf(skip)('snapshot of a real uvicorn', () => {
  let dir: string;
  let uv: ChildProcess | undefined;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifetop-uv-'));
    fs.writeFileSync(path.join(dir, 'app.py'), APP);
  });
  afterEach(() => {
    if (uv?.pid) spawnSync('kill', ['-9', '--', `-${uv.pid}`]);
    uv = undefined;
  });

  async function startUvicorn(): Promise<{ master: number; workers: number[] }> {
    const port = await freePort();
    uv = spawn('/usr/bin/python3', ['-m', 'uvicorn', 'app:app', '--host', '127.0.0.1', '--port', String(port), '--workers', '2'], {
      cwd: dir, stdio: 'ignore', detached: true,
    });
    await waitListening(port);
    for (let i = 0; ; i++) {
      const workers = childrenOf(uv.pid!).filter((p) => fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('spawn_main'));
      if (workers.length === 2) return { master: uv.pid!, workers };
      if (i === 100) throw new Error(`uvicorn has ${workers.length} workers after 10 s, not 2`);
      await sleep(100);
    }
  }

  function expectUvicorn(rows: SnapRow[], master: number, workers: number[], want: { state: string; origin: string }): void {
    expect(workers).toHaveLength(2);
    expect(rows.find((r) => r.pid === master), 'master row').toMatchObject({ label: 'uvicorn app:app master', ...want });
    for (const w of workers) {
      expect(rows.find((x) => x.pid === w), `worker ${w} row`).toMatchObject({ ppid: master, label: 'uvicorn app:app worker', ...want });
    }
  }

  it('lists a uvicorn started before lifetop (seeded from /proc)', async () => {
    const { master, workers } = await startUvicorn();
    const file = path.join(dir, 'seeded.json');
    const r = await snapshot(file, 1).done;
    expect(r.code, r.stderr).toBe(0);
    expectUvicorn(rowsFor(file, [master, ...workers]), master, workers, { state: 'running', origin: 'seeded' });
  });

  it('lists a uvicorn started after lifetop (traced), then shows it killed', async () => {
    const file = path.join(dir, 'traced.json');
    const snap = snapshot(file, 4);
    await snap.ready;
    const { master, workers } = await startUvicorn();
    const r = await snap.done;
    expect(r.code, r.stderr).toBe(0);
    expectUvicorn(rowsFor(file, [master, ...workers]), master, workers, { state: 'running', origin: 'event' });

    const killed = path.join(dir, 'killed.json');
    const next = snapshot(killed, 3);
    await next.ready;
    spawnSync('kill', ['-9', '--', `-${master}`]);
    uv = undefined;
    expect((await next.done).code).toBe(0);
    const rows = rowsFor(killed, [master, ...workers]);
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(row.state).toBe('exited');
      expect(row.signal).toBe(9);
    }
  });
});
