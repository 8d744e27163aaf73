import { describe, expect, it } from 'vitest';
import { formatEvent } from '../../src/core/ndjson';
import { encodeRecords } from '../../src/core/ndjsonBytes';
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
