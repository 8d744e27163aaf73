import { describe, expect, it } from 'vitest';
import { formatEvent } from '../../src/core/ndjson';
import { encodeRecords, writeRecords } from '../../src/core/ndjsonBytes';
import type { StreamRecord } from '../../src/core/types';
import { exec, exit, fork } from '../support/events';

const HOSTILE = '\u001b[2J\n\u0007{bold}\u007f\u009b\u2028"\\\u202e\u061c\u00e9\u4e2d\ud83d\ude00\ud800';

/** Every kind of record, and strings that take every path: plain ASCII, escapes, UTF-8, lone surrogates. */
const RECORDS: StreamRecord[] = [
  exec(1, 1),
  exec(2, 1, { comm: HOSTILE, filename: `/tmp/${HOSTILE}`, args: ['a\r\nb', HOSTILE, '', 'plain'], seeded: true }),
  exec(3, 1, { args: [], recovered: true }),
  { ...exec(4, 1), cgroup: `/sys/${HOSTILE}`, unit: 'u.service' },
  { ...exec(5, 1), cgroup: '/x', unit: undefined },
  exit(10, 1, { code: 255 }),
  exit(11, 1, { signal: 9, core: true, killedBy: { pid: 4242, comm: `k${HOSTILE}`, uid: 1000, kernel: false } }),
  exit(12, 1, { signal: 9, killedBy: { pid: 0, comm: '', uid: 0, kernel: true }, oomRssKb: 421_888 }),
  { ...exit(17, 1, { signal: 9, killedBy: { pid: 0, comm: '', uid: 0, kernel: true } }), oom: { rssKb: 9, memcgId: '77', memcg: `/jobs/${HOSTILE}` } },
  exit(13, 1, { unknownStatus: true, inferred: 'vanished', seeded: true }),
  exit(14, 1, { code: -3, inferred: 'zombie' }),
  { ...exit(15, 1), durationMs: 0.525182, cpuMs: 1e21, exitCode: Number.NaN },
  { ...exit(16, 1), time: 0, startedAt: 253402300800001 }, // the edges of toISOString's fast path
  fork(20, 1, 21, 2),
  { ...fork(22, 1, 23, 2), childStart: 2 ** 60, pid: 0 },
  { type: 'lost', time: Date.UTC(2026, 0, 1), stage: 'kernel_ring', count: 7, since: Date.UTC(2025, 11, 31), until: Date.UTC(2026, 0, 1, 0, 0, 0, 5) },
];

describe('encodeRecords', () => {
  it('writes exactly the lines formatEvent writes, one per record', () => {
    const bytes = encodeRecords(RECORDS);
    expect(bytes.toString('utf8')).toBe(RECORDS.map((r) => formatEvent(r) + '\n').join(''));
  });

  it('writes a batch larger than its scratch buffer, and gives each batch a buffer of its own', () => {
    const many = Array.from({ length: 2000 }, (_, i) => exec(100 + i, 1 + i / 1000, { args: ['python3', 'x'.repeat(i % 300)] }));
    const first = encodeRecords(many);
    const second = encodeRecords([exec(1, 1)]);
    expect(first.toString('utf8')).toBe(many.map((r) => formatEvent(r) + '\n').join(''));
    expect(second.toString('utf8')).toBe(formatEvent(exec(1, 1)) + '\n');
    expect(encodeRecords([]).length).toBe(0);
  });
});

describe('writeRecords', () => {
  /** A stream that keeps what it was given, and says it still holds the bytes while `holding`. */
  function stream(holding: boolean) {
    const chunks: Uint8Array[] = [];
    return { chunks, writableLength: 0, write(chunk: Uint8Array) { chunks.push(chunk); if (holding) this.writableLength += chunk.length; } };
  }

  it('writes the lines encodeRecords builds, in one write a batch', () => {
    const out = stream(false);
    writeRecords(out, RECORDS);
    writeRecords(out, []);
    expect(out.chunks).toHaveLength(1);
    expect(Buffer.from(out.chunks[0]).toString('utf8')).toBe(encodeRecords(RECORDS).toString('utf8'));
  });

  it('never writes over bytes a stream still holds', () => {
    const out = stream(true);
    writeRecords(out, [exec(1, 1)]);
    writeRecords(out, [exec(2, 1)]);
    expect(out.chunks.map((c) => Buffer.from(c).toString('utf8'))).toEqual([formatEvent(exec(1, 1)) + '\n', formatEvent(exec(2, 1)) + '\n']);
  });

  it('reuses its buffer once a stream has taken the bytes, and the next batch is right', () => {
    const out = stream(false);
    writeRecords(out, [exec(1, 1)]);
    const first = Buffer.from(out.chunks[0]).toString('utf8'); // copied before the next write
    writeRecords(out, [fork(3, 1, 4, 2)]);
    expect(first).toBe(formatEvent(exec(1, 1)) + '\n');
    expect(out.chunks[0].buffer).toBe(out.chunks[1].buffer); // no allocation per batch
    expect(Buffer.from(out.chunks[1]).toString('utf8')).toBe(formatEvent(fork(3, 1, 4, 2)) + '\n');
  });
});

describe('numbers as JSON.stringify writes them', () => {
  it('durations and CPU times in ms from kernel nanoseconds, integers, and anything else', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const values: number[] = [0.000001, 0.1, 0.5, 999999.999999, 999999999.999999, 1e9 - 1e-6, 1e9 + 0.5, 1 / 3, Math.PI, 1e-7, 5e-324,
      2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, 1e21, 1e8, 1e8 - 1, 99_999_999.5, -0, -1.5, -3];
    for (let i = 0; i < 5000; i++) {
      const digits = 1 + Math.floor(rand() * 15);
      const ns = Math.floor(rand() * 10 ** digits);
      values.push(ns / 1e6, ns, rand() * 10 ** Math.floor(rand() * 12));
    }
    const records = values.map((v, i) => ({ ...exit(100 + i, 1), durationMs: v, cpuMs: v, exitCode: Number.isInteger(v) ? v : 0 }));
    expect(encodeRecords(records).toString('utf8')).toBe(records.map((r) => formatEvent(r) + '\n').join(''));
  });
});
