// Hostile conditions and bad input, end to end through bin/lifetop (no root: recordings):
// every failure is one line and the documented exit, and no recorded event is lost.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatEvent } from '../../src/core/ndjson';
import { BIN } from '../support/lifetop';
import { exec, exit } from '../support/events';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifetop-hostile-'));
});

function lifetop(args: string[], opts: { input?: string } = {}) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', maxBuffer: 1 << 28, timeout: 60_000, ...opts });
}

function recording(name: string, lines: string[]): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/** n short-lived processes (exec + exit each), then `running` that never exit. */
function workload(n: number, running: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const pid = 1000 + i;
    out.push(formatEvent(exec(pid, (i + 1) / 100)));
    out.push(formatEvent(exit(pid, (i + 1) / 100, { endSec: (i + 1.5) / 100 })));
  }
  for (let j = 0; j < running; j++) out.push(formatEvent(exec(900_000 + j, (n + j + 1) / 100)));
  return out;
}

describe('bad recordings and bad targets', () => {
  it('--on-bad-line abort prints every event before the bad line, then stops with one line and exit 1', () => {
    const good = workload(600, 0); // 1200 events
    const file = recording('abort.ndjson', [...good, '{"type":"nonsense"}', ...workload(3, 0)]);
    const r = lifetop(['--json', '--replay', file, '--on-bad-line', 'abort']);
    expect(r.status).toBe(1);
    expect(r.stdout.trim().split('\n')).toHaveLength(1200);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/abort\.ndjson:1201: unknown event type "nonsense"$/)]);
  });

  it('a --snapshot that fails on a bad line still records every event before it', () => {
    const file = recording('abort-snap.ndjson', [...workload(100, 0), '{"type":"nonsense"}']);
    const rec = path.join(dir, 'abort-snap.rec.ndjson');
    const r = lifetop(['--snapshot', path.join(dir, 'never.json'), '--replay', file, '--on-bad-line', 'abort', '--record', rec]);
    expect(r.status).toBe(1);
    const lines = fs.readFileSync(rec, 'utf8').trim().split('\n');
    expect(lines[0]).toMatch(/^\{"type":"header"/);
    expect(lines.slice(1)).toHaveLength(200);
  });

  it('a UTF-8 BOM does not cost the first event', () => {
    const lines = workload(2, 0);
    const file = recording('bom.ndjson', ['\uFEFF' + lines[0], ...lines.slice(1)]);
    const r = lifetop(['--json', '--replay', file]);
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(4);
    expect(r.stderr).toBe('');
  });

  it('a reversed recording never gives negative ages', () => {
    const file = recording('reversed.ndjson', workload(50, 3).reverse());
    const snap = path.join(dir, 'reversed.json');
    expect(lifetop(['--snapshot', snap, '--replay', file]).status).toBe(0);
    const rows = (JSON.parse(fs.readFileSync(snap, 'utf8')) as { processes: { age_s: number }[] }).processes;
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.filter((r) => r.age_s < 0)).toEqual([]);
  });

  it('a replay snapshot is the table at the end of the recording, however long it takes', () => {
    const file = recording('long.ndjson', workload(60_000, 10));
    const snap = path.join(dir, 'long.json');
    const r = lifetop(['--snapshot', snap, '--replay', file, '--retention', '1']);
    expect(r.status).toBe(0);
    const rows = (JSON.parse(fs.readFileSync(snap, 'utf8')) as { processes: { pid: number; state: string }[] }).processes;
    expect(rows.filter((p) => p.state === 'running').map((p) => p.pid).sort()).toEqual(Array.from({ length: 10 }, (_, j) => 900_000 + j));
  });

  it('an over-long line (or /dev/zero) is named in one line, exit 1, no stack trace', () => {
    const file = recording('long-line.ndjson', [workload(1, 0)[0], 'x'.repeat(2 << 20)]);
    for (const [input, line] of [[file, 2], ['/dev/zero', 1]] as const) {
      const r = lifetop(['--json', '--replay', input]);
      expect(r.status).toBe(1);
      expect(r.stderr.trim().split('\n')).toEqual([`lifetop: ${input}:${line}: line longer than 1 MiB: not a lifetop recording`]);
    }
  });

  it('a recording is never its own input nor replaced by the snapshot (also through a link): usage error, file intact', () => {
    const file = recording('same.ndjson', workload(3, 0));
    const before = fs.readFileSync(file, 'utf8');
    const link = path.join(dir, 'same-link.ndjson');
    fs.symlinkSync(file, link);
    const a = lifetop(['--json', '--replay', file, '--record', link]);
    expect(a.status).toBe(2);
    expect(a.stderr).toMatch(/^lifetop: --record and --replay name the same file/);
    const snap = path.join(dir, 'snap.json');
    const b = lifetop(['--snapshot', snap, '--replay', file, '--record', snap]);
    expect(b.status).toBe(2);
    expect(b.stderr).toMatch(/^lifetop: --record and --snapshot name the same file/);
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
    expect(fs.existsSync(snap)).toBe(false);
  });

  it('a failed write of the stream is exit 1, always (/dev/full)', () => {
    const file = recording('full.ndjson', workload(5, 0));
    const fd = fs.openSync('/dev/full', 'w');
    try {
      const r = spawnSync(process.execPath, [BIN, '--json', '--replay', file], { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8' });
      expect(r.status).toBe(1);
      expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^lifetop: cannot write events: ENOSPC/)]);
    } finally {
      fs.closeSync(fd);
    }
  });
});

describe('a hostile signal sender (a comm renamed with prctl)', () => {
  const SENDER = '=k\u001b[2J\u0007\u009b\u202e{x}';
  const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/;

  it('stays data in every output: the stream, JSON, CSV and text snapshots', () => {
    const lines = [formatEvent(exec(7, 1)), formatEvent(exit(7, 1, { signal: 15, killedBy: { pid: 4242, comm: SENDER, uid: 1000, kernel: false } }))];
    const file = recording('sender.ndjson', lines);
    const stream = lifetop(['--json', '--replay', file]);
    expect(stream.status).toBe(0);
    expect(stream.stdout).not.toMatch(RAW);
    expect(stream.stdout.trim().split('\n')).toEqual(lines);
    const snap = (ext: string) => {
      const out = path.join(dir, `sender.${ext}`);
      expect(lifetop(['--snapshot', out, '--replay', file]).status).toBe(0);
      const text = fs.readFileSync(out, 'utf8');
      expect(ext === 'csv' ? text.replace(/\r\n/g, '\n') : text).not.toMatch(RAW); // CSV lines end in CRLF
      return text;
    };
    const row = (JSON.parse(snap('json')) as { processes: { pid: number; reason: string; killed_by: unknown }[] }).processes.find((p) => p.pid === 7);
    expect(row).toMatchObject({ reason: 'signal', killed_by: { pid: 4242, comm: SENDER, uid: 1000, kernel: false } });
    expect(snap('csv')).toContain(",signal,'=k\\x1b[2J\\x07\\x9b\\u202e{x}[4242] uid 1000,");
    expect(snap('txt')).toMatch(/ SIGTERM\n/);
  });
});

describe('readers and signals that go away early', () => {
  it('notices `| head -1` going away without waiting for another event', async () => {
    // Two events a minute apart, replayed in real time: lifetop must not wait for the second.
    const file = recording('gap.ndjson', [
      formatEvent(exec(1, 1)), formatEvent(exec(2, 61)),
    ]);
    // bash exits with lifetop's own status (PIPESTATUS[0]), not head's.
    const child = spawn('bash', ['-c', `"${process.execPath}" "${BIN}" --json --replay "${file}" --replay-speed realtime | head -1 >/dev/null; exit "\${PIPESTATUS[0]}"`], { stdio: ['ignore', 'pipe', 'pipe'] });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0); // well before the second event (the test's own timeout is 30 s)
  });

  it.each(['SIGINT', 'SIGTERM', 'SIGHUP'])('%s while the modules load ends the run the documented way (exit 0), not with 128+N', (signal) => {
    // Sends the signal to itself as soon as the CLI module starts loading: after the launcher's first line.
    const preload = path.join(dir, `signal-on-load-${signal}.js`);
    fs.writeFileSync(preload, [
      "const Module = require('module');",
      'const load = Module._load;',
      'let sent = false;',
      "Module._load = function (request, ...rest) {",
      `  if (!sent && request.endsWith('cli.js')) { sent = true; process.kill(process.pid, '${signal}'); }`,
      '  return load.call(this, request, ...rest);',
      '};',
    ].join('\n'));
    const file = recording(`sig-${signal}.ndjson`, workload(3, 0));
    const r = spawnSync(process.execPath, ['--require', preload, BIN, '--json', '--replay', file, '--replay-speed', 'realtime'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(0);
  });
});
