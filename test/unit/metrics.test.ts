// Metrics from the real pipeline without root: a recording replayed through a Session, read back
// from the exposition text; the group cap under a storm of names; hostile names; the HTTP endpoint.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatEvent, formatHeader } from '../../src/core/ndjson';
import type { StreamRecord } from '../../src/core/types';
import { groupName, GroupCap, labelValue, OTHER } from '../../src/export/groups';
import { Metrics } from '../../src/export/metrics';
import { serveMetrics, type MetricsServer } from '../../src/export/server';
import { ReplaySource } from '../../src/source/replay';
import { Session } from '../../src/session';
import { at, BOOT_MS, exec, exit, fork } from '../support/events';
import { parseExposition, sample, scrape, type Series } from '../support/prometheus';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifetop-metrics-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Replays the records through a Session with metrics attached; returns the parsed exposition. */
async function replayed(records: StreamRecord[], opts: { maxGroups?: number; unitLabel?: boolean } = {}): Promise<{ series: Series[]; text: string }> {
  const file = path.join(dir, 'rec.ndjson');
  const header = formatHeader({ type: 'header', version: 't', source: 'bpf', filter: ['*'], followChildren: true, bootTime: BOOT_MS });
  fs.writeFileSync(file, [header, ...records.map(formatEvent)].join('\n') + '\n');
  const source = new ReplaySource(file, { speed: 'max', onBadLine: 'abort', warn: () => undefined });
  const session = new Session(source, { filter: null, retentionMs: 1e9, maxRows: 50_000 });
  const metrics = new Metrics(session, {
    maxGroups: opts.maxGroups ?? 200, unitLabel: opts.unitLabel ?? false, info: { version: '9.9.9', source: 'replay', exitProgram: 'none' },
  });
  session.start();
  await source.done;
  session.stop();
  const text = await metrics.text();
  return { series: parseExposition(text), text };
}

const py = (script: string[]) => ({ args: ['python3', ...script], filename: '/usr/bin/python3.11' });

describe('metrics from a session', () => {
  it('counts exits by group, reason and signal, lifetimes, running processes, loss and the kernel counters', async () => {
    const { series } = await replayed([
      exec(100, 1, py(['/srv/app/exit3.py'])), exit(100, 1, { code: 3, endSec: 2 }),
      exec(101, 1, py(['killed.py'])),
      exit(101, 1, { signal: 9, endSec: 1.05, killedBy: { pid: 7, comm: 'kill', uid: 0, kernel: false } }),
      exec(102, 1, py(['-m', 'uvicorn', 'app:app'])), fork(102, 1, 103, 1.5),
      exec(105, 1, { comm: 'sh', args: ['sh', '-c', 'x'], filename: '/bin/sh' }), exit(105, 1, { comm: 'sh', signal: 11, core: true }),
      exec(106, 1, py(['hog.py'])), exit(106, 1, { signal: 9, oomRssKb: 4096 }),
      exec(107, 1, py(['gone.py'])), exit(107, 1, { inferred: 'vanished' }),
      exec(108, 1, { ...py(['old.py']), seeded: true }), exit(108, 1, { seeded: true }),
      { type: 'lost', time: at(3), stage: 'kernel_ring', count: 5, since: at(2), until: at(3) },
    ]);
    expect(sample(series, 'lifetop_exits_total', { group: 'exit3.py', reason: 'code', signal: '' })).toBe(1);
    expect(sample(series, 'lifetop_exits_total', { group: 'killed.py', reason: 'signal', signal: 'SIGKILL' })).toBe(1);
    expect(sample(series, 'lifetop_exits_total', { group: 'sh', reason: 'core', signal: 'SIGSEGV' })).toBe(1);
    expect(sample(series, 'lifetop_exits_total', { group: 'hog.py', reason: 'oom', signal: 'SIGKILL' })).toBe(1);
    expect(sample(series, 'lifetop_exits_total', { group: 'gone.py', reason: 'lost' })).toBe(1);
    // A process that had already exited when lifetop looked is not an exit lifetop saw.
    expect(sample(series, 'lifetop_exits_total', { group: 'old.py' })).toBeUndefined();
    expect(sample(series, 'lifetop_running_processes', { group: 'uvicorn app:app' })).toBe(2);
    expect(sample(series, 'lifetop_running_processes', { group: 'exit3.py' })).toBeUndefined();

    const life = { group: 'exit3.py' };
    expect(sample(series, 'lifetop_process_lifetime_seconds_count', life)).toBe(1);
    expect(sample(series, 'lifetop_process_lifetime_seconds_bucket', { ...life, le: '1' })).toBe(1);
    expect(sample(series, 'lifetop_process_lifetime_seconds_bucket', { ...life, le: '0.1' })).toBe(0);
    expect(sample(series, 'lifetop_process_lifetime_seconds_sum', life)).toBeCloseTo(1, 2);
    expect(sample(series, 'lifetop_process_lifetime_seconds_count', { group: 'gone.py' })).toBeUndefined(); // no lifetime known

    expect(sample(series, 'lifetop_lost_events_total', { stage: 'kernel_ring' })).toBe(5);
    expect(sample(series, 'lifetop_lost_events_total', { stage: 'traced_map' })).toBe(0);
    expect(sample(series, 'lifetop_inferred_total', { kind: 'vanished' })).toBe(1);
    expect(sample(series, 'lifetop_traced_exits_total')).toBe(6); // every exit record of the recording, seeded too
    expect(sample(series, 'lifetop_host_execs_total')).toBe(7);
    expect(sample(series, 'lifetop_build_info', { version: '9.9.9', source: 'replay', kernel: os.release() })).toBe(1);
    expect(sample(series, 'process_resident_memory_bytes')).toBeGreaterThan(0); // prom-client's defaults
    expect(sample(series, 'process_cpu_seconds_total')).toBeGreaterThan(0);
  });

  it('caps distinct groups: a storm of unique names ends under "other", running ones too', async () => {
    const records: StreamRecord[] = [];
    for (let i = 0; i < 300; i++) {
      const comm = `c${String(i).padStart(4, '0')}`;
      const o = { comm, args: [comm], filename: `/tmp/${comm}` };
      records.push(exec(1000 + i, 1, o), exit(1000 + i, 1, { ...o, endSec: 1.002 }));
    }
    for (let i = 0; i < 50; i++) records.push(exec(2000 + i, 2, { comm: `r${i}`, args: [`r${i}`], filename: `/tmp/r${i}` }));
    const { series } = await replayed(records, { maxGroups: 10 });
    const groups = new Set(series.flatMap((s) => (s.labels.group !== undefined ? [s.labels.group] : [])));
    expect(groups.size).toBe(11);
    expect(groups.has(OTHER)).toBe(true);
    expect(sample(series, 'lifetop_exits_total', { group: OTHER, reason: 'ok' })).toBe(290);
    expect(sample(series, 'lifetop_metrics_groups')).toBe(10);
    expect(sample(series, 'lifetop_metrics_group_overflows_total')).toBe(290);
    expect(sample(series, 'lifetop_running_processes', { group: OTHER })).toBe(50);
    const exits = series.filter((s) => s.name === 'lifetop_exits_total').reduce((n, s) => n + s.value, 0);
    expect(exits).toBe(300);
  });

  it('labels by unit when asked, the pair counting toward the cap', async () => {
    const o = () => ({ ...py(['job.py']), comm: 'python3' });
    const withUnit = (ev: StreamRecord, unit: string) => ({ ...ev, cgroup: `/system.slice/${unit}`, unit }) as StreamRecord;
    const { series } = await replayed([
      withUnit(exec(1, 1, o()), 'a.service'), withUnit(exit(1, 1, { code: 1 }), 'a.service'),
      withUnit(exec(2, 1, o()), 'b.service'), withUnit(exit(2, 1, { code: 1 }), 'b.service'),
      withUnit(exec(3, 1, o()), 'c.service'), withUnit(exit(3, 1, { code: 1 }), 'c.service'),
    ], { maxGroups: 2, unitLabel: true });
    expect(sample(series, 'lifetop_exits_total', { group: 'job.py', unit: 'a.service', reason: 'code' })).toBe(1);
    expect(sample(series, 'lifetop_exits_total', { group: 'job.py', unit: 'b.service', reason: 'code' })).toBe(1);
    expect(sample(series, 'lifetop_exits_total', { group: OTHER, unit: OTHER, reason: 'code' })).toBe(1);
  });

  it('writes hostile names as sanitized, well-formed label values', async () => {
    const evil = 'ev"il\n{x}\\\x1b[31m';
    const o = { comm: evil, args: [evil], filename: '/tmp/evil' };
    const { series, text } = await replayed([exec(9, 1, o), exit(9, 1, { ...o, code: 2 })]);
    const group = labelValue(evil);
    expect(group).toBe('ev"il\\n{x}\\\\x1b[31m'); // core/sanitize's escapes: nothing raw is left
    expect(sample(series, 'lifetop_exits_total', { group, reason: 'code' })).toBe(1);
    expect(text).not.toContain('\x1b');
    // parseExposition threw on any line that is not a sample: one label value could not break a line.
  });
});

describe('groups', () => {
  it('name what runs: the python script, module or -c, uvicorn app, else the comm', () => {
    const g = (comm: string, args: string[], label: string, filename = '/usr/bin/python3') => groupName({ comm, args, label, filename });
    expect(g('python3', ['python3', '/srv/a/job.py'], '/srv/a/job.py')).toBe('job.py');
    expect(g('python3', ['python3', '-m', 'http.server'], '-m http.server')).toBe('-m http.server');
    expect(g('python3', ['python3', '-c', 'pass'], "-c 'pass'")).toBe('python3 -c');
    expect(g('python3', ['python3', '-m', 'uvicorn', 'app:app'], 'uvicorn app:app worker')).toBe('uvicorn app:app');
    expect(g('python3', ['python3'], 'python3')).toBe('python3');
    expect(g('bash', ['bash', '-c', 'sleep 1'], 'bash -c sleep 1', '/bin/bash')).toBe('bash');
    expect(g('x'.repeat(15), [], '', '')).toBe('x'.repeat(15));
    expect(labelValue('')).toBe('-');
    expect(labelValue('a'.repeat(100))).toHaveLength(64);
  });

  it('admit first come, first kept', () => {
    const cap = new GroupCap(2);
    expect([cap.admit('a'), cap.admit('b'), cap.admit('c'), cap.admit('a'), cap.admit('d', false)]).toEqual(['a', 'b', OTHER, 'a', OTHER]);
    expect(cap.overflowed).toBe(1);
  });
});

describe('the /metrics endpoint', () => {
  let server: MetricsServer | undefined;
  afterEach(() => server?.close());
  const exposition = { text: async () => 'lifetop_up 1\n', contentType: 'text/plain; version=0.0.4; charset=utf-8' };

  it('serves /metrics, 404 elsewhere, 405 for other methods', async () => {
    server = await serveMetrics(exposition, { host: '127.0.0.1', port: 0, text: '127.0.0.1:0' }, () => undefined);
    expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/);
    const got = await scrape(server.address);
    expect(got.series).toEqual([{ name: 'lifetop_up', labels: {}, value: 1 }]);
    expect(got.contentType).toContain('version=0.0.4');
    expect((await fetch(`http://${server.address}/nope`)).status).toBe(404);
    expect((await fetch(`http://${server.address}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('fails with one line when the port is taken', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      await expect(serveMetrics(exposition, { host: '127.0.0.1', port, text: `127.0.0.1:${port}` }, () => undefined))
        .rejects.toThrow(new RegExp(`^cannot serve metrics on 127\\.0\\.0\\.1:${port}: the address is already in use$`));
    } finally {
      taken.close();
    }
  });
});
