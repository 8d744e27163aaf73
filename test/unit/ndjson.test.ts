import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectOneLineError } from '../support/errors';
import { escapeInvisible, eventToJson, formatEvent, formatHeader, parseEvent, parseRecord, RecordingError } from '../../src/core/ndjson';
import type { KilledBy, LifecycleEvent, LostRecord, RecordingHeader, StreamRecord } from '../../src/core/types';
import { exec, exit, fork } from '../support/events';

/** Every bidirectional control (Trojan Source, CVE-2021-42574), raw and as written escaped. */
const BIDI = '\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c';
const BIDI_ESCAPED = '\\u202a\\u202b\\u202c\\u202d\\u202e\\u2066\\u2067\\u2068\\u2069\\u200e\\u200f\\u061c';
const BIDI_RE = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** Whole milliseconds: the ISO-8601 form keeps ms, so that is what survives a round trip. */
function wholeMs<T extends LifecycleEvent>(ev: T): T {
  return { ...ev, time: Math.floor(ev.time), startedAt: Math.floor(ev.startedAt) };
}

describe('eventToJson', () => {
  it('writes the exec contract', () => {
    const ev = exec(4242, 10, { ppid: 1, uid: 1000, args: ['python3', 'app.py'], time: Date.UTC(2025, 0, 2, 3, 4, 5, 678) });
    const json = eventToJson(ev);
    expect(Object.keys(json)).toEqual(['type', 'time', 'pid', 'ppid', 'uid', 'comm', 'start', 'started_at', 'tid', 'cgroup_id',
      'filename', 'args', 'args_truncated']);
    expect(json).toMatchObject({
      type: 'exec', time: '2025-01-02T03:04:05.678Z', pid: 4242, ppid: 1, uid: 1000, comm: 'python3', start: ev.start,
      started_at: new Date(ev.startedAt).toISOString(), tid: 4242, cgroup_id: '77', filename: '/usr/bin/python3.11',
      args: ['python3', 'app.py'], args_truncated: false,
    });
    expect(eventToJson({ ...ev, seeded: true }).seeded).toBe(true);
    expect('seeded' in eventToJson({ ...ev, seeded: false })).toBe(false);
    expect(eventToJson({ ...ev, recovered: true }).recovered).toBe(true);
    expect('recovered' in eventToJson({ ...ev, recovered: false })).toBe(false);
  });

  it('writes the exit and fork contracts', () => {
    const ex = eventToJson(exit(7, 1, { code: 3, signal: 0, core: false }));
    expect(ex).toMatchObject({ type: 'exit', exit_code: 3, signal: 0, core_dumped: false, cpu_ms: 12 });
    expect(typeof ex.duration_ms).toBe('number');
    expect('unknown_status' in ex).toBe(false);
    expect(eventToJson(exit(7, 1, { unknownStatus: true })).unknown_status).toBe(true);
    expect('inferred' in ex).toBe(false);
    expect('seeded' in ex).toBe(false);
    const zombie = eventToJson(exit(7, 1, { code: 3, inferred: 'zombie', seeded: true }));
    expect(Object.keys(zombie).slice(-9)).toEqual(['exit_code', 'signal', 'core_dumped', 'reason', 'killed_by', 'duration_ms', 'cpu_ms',
      'inferred', 'seeded']);
    expect(zombie).toMatchObject({ exit_code: 3, inferred: 'zombie', seeded: true });
    expect(eventToJson(exit(7, 1, { inferred: 'vanished' })).inferred).toBe('vanished');
    expect(ex).toMatchObject({ reason: 'code', killed_by: null });
    expect('oom_rss_kb' in ex).toBe(false);
    const fk = eventToJson(fork(7, 1, 8, 2));
    expect(fk).toMatchObject({ type: 'fork', pid: 7, child_pid: 8 });
    expect(fk.child_start).toBe(fork(7, 1, 8, 2).childStart);
  });
});

describe('exit reasons in the stream', () => {
  const KILL: KilledBy = { pid: 4242, comm: 'kill', uid: 1000, kernel: false };
  const KERNEL: KilledBy = { pid: 0, comm: '', uid: 0, kernel: true };

  it('writes reason and killed_by after core_dumped, oom_rss_kb only for the OOM killer', () => {
    const killed = eventToJson(exit(7, 1, { signal: 15, killedBy: KILL }));
    expect(Object.keys(killed).slice(-7)).toEqual(['exit_code', 'signal', 'core_dumped', 'reason', 'killed_by', 'duration_ms', 'cpu_ms']);
    expect(killed).toMatchObject({ reason: 'signal', killed_by: { pid: 4242, comm: 'kill', uid: 1000, kernel: false } });
    const oom = eventToJson(exit(7, 1, { signal: 9, killedBy: KERNEL, oomRssKb: 421_888 }));
    expect(Object.keys(oom).slice(-8)).toEqual(['exit_code', 'signal', 'core_dumped', 'reason', 'killed_by', 'oom_rss_kb', 'duration_ms',
      'cpu_ms']);
    expect(oom).toMatchObject({ reason: 'oom', killed_by: KERNEL, oom_rss_kb: 421_888 });
    expect(eventToJson(exit(7, 1, { signal: 11, core: true, killedBy: KERNEL }))).toMatchObject({ reason: 'core', killed_by: KERNEL });
    expect(eventToJson(exit(7, 1, { code: 0 }))).toMatchObject({ reason: 'ok', killed_by: null });
    expect(eventToJson(exit(7, 1, { signal: 9 }))).toMatchObject({ reason: 'signal', killed_by: null }); // sender not seen
    expect(eventToJson(exit(7, 1, { inferred: 'vanished' }))).toMatchObject({ reason: 'lost', killed_by: null });
    expect(eventToJson(exit(7, 1, { unknownStatus: true }))).toMatchObject({ reason: 'lost' });
  });

  it('escapes a hostile sender comm like any comm, and reads it back', () => {
    const hostile = '\u001b]0;pwn\u0007\u009b2J\u202e{x}';
    const ev = wholeMs(exit(7, 1, { signal: 15, killedBy: { ...KILL, comm: hostile } }));
    const line = formatEvent(ev);
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(line).not.toMatch(BIDI_RE);
    expect(line).toContain('"killed_by":{"pid":4242,"comm":"\\u001b]0;pwn\\u0007\\u009b2J\\u202e{x}","uid":1000,"kernel":false}');
    expect(line).toBe(escapeInvisible(JSON.stringify(eventToJson(ev))));
    expect(parseEvent(line)).toEqual(ev);
  });

  it('reads recordings made before exit reasons (no reason, no killed_by)', () => {
    const old = JSON.parse(formatEvent(wholeMs(exit(7, 1, { signal: 9 }))));
    delete old.reason;
    delete old.killed_by;
    expect(parseEvent(JSON.stringify(old))).toEqual(wholeMs(exit(7, 1, { signal: 9 })));
  });

  const good = JSON.parse(formatEvent(exit(1, 1, { signal: 15, killedBy: KILL })));
  const bad: [string, unknown, RegExp][] = [
    ['an unknown reason', { ...good, reason: 'bored' }, /"reason" is not one of ok, code, signal, oom, core, lost/],
    ['a numeric reason', { ...good, reason: 3 }, /"reason" is not a string/],
    ['killed_by as a string', { ...good, killed_by: 'kill' }, /"killed_by" is not null or \{pid, comm, uid, kernel\}/],
    ['killed_by without comm', { ...good, killed_by: { pid: 1, uid: 0, kernel: false } }, /"killed_by"/],
    ['killed_by with a negative pid', { ...good, killed_by: { ...KILL, pid: -1 } }, /"killed_by"/],
    ['killed_by with a string kernel', { ...good, killed_by: { ...KILL, kernel: 'no' } }, /"killed_by"/],
    ['a fractional oom_rss_kb', { ...good, oom_rss_kb: 1.5 }, /"oom_rss_kb" is not a non-negative integer/],
  ];
  for (const [what, value, reason] of bad) {
    it(`rejects ${what} with a short reason`, () => {
      expectOneLineError(() => parseEvent(JSON.stringify(value)), RecordingError, reason);
    });
  }
});

describe('formatEvent', () => {
  it('is one line with no raw control characters, whatever the kernel strings hold', () => {
    const hostile = '\u001b[2J\n\u0007{bold}\u007f\u009b\u2028';
    const line = formatEvent(exec(1, 1, { comm: hostile, args: ['a\r\nb', hostile] }));
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
    expect(line).toContain('\\u001b[2J\\n\\u0007{bold}\\u007f\\u009b\\u2028');
    const back = JSON.parse(line);
    expect(back.comm).toBe(hostile);
    expect(back.args).toEqual(['a\r\nb', hostile]);
  });

  it('escapes bidirectional controls, so `cat` cannot show a spoofed command line', () => {
    const ev = exec(1, 1, { comm: 'a\u202eb', filename: `/tmp/${BIDI}`, args: ['ls', `x${BIDI}y`] });
    const line = formatEvent(ev);
    expect(line).not.toMatch(BIDI_RE);
    expect(line).toContain('"comm":"a\\u202eb"');
    expect(line).toContain(`"args":["ls","x${BIDI_ESCAPED}y"]`);
    expect(line).toBe(escapeInvisible(JSON.stringify(eventToJson(ev))));
    expect(parseEvent(line)).toEqual(wholeMs(ev));
  });
});

describe('parseEvent', () => {
  it('round-trips every event type', () => {
    const events: LifecycleEvent[] = [
      exec(10, 1, { args: ['python3', '-c', 'print("x")'], comm: '\u001b]0;x\u0007' }),
      { ...exec(11, 1), seeded: true, argsTruncated: true },
      exit(10, 1, { code: 255, signal: 0 }),
      exit(12, 1, { signal: 9, core: true }),
      exit(13, 1, { unknownStatus: true }),
      exec(15, 1, { recovered: true }),
      exit(15, 1, { code: 3, inferred: 'zombie' }),
      exit(16, 1, { signal: 6, core: true, inferred: 'zombie', seeded: true }),
      exit(17, 1, { inferred: 'vanished' }),
      exit(18, 1, { inferred: 'zombie', unknownStatus: true }),
      exit(19, 1, { signal: 15, killedBy: { pid: 4242, comm: 'k\u001bill', uid: 1000, kernel: false } }),
      exit(20, 1, { signal: 11, core: true, killedBy: { pid: 0, comm: '', uid: 0, kernel: true } }),
      exit(21, 1, { signal: 9, killedBy: { pid: 0, comm: '', uid: 0, kernel: true }, oomRssKb: 421_888 }),
      fork(10, 1, 14, 1.5),
    ].map(wholeMs);
    for (const ev of events) expect(parseEvent(formatEvent(ev))).toEqual(ev);
    for (const ev of events) expect(parseRecord(formatEvent(ev))).toEqual(ev);
  });

  it('loses only sub-millisecond precision of the times', () => {
    const ev = exec(1, 1.0004567);
    const back = parseEvent(formatEvent(ev));
    expect(back.time).toBe(Math.floor(ev.time));
    expect(back.start).toBe(ev.start);
  });

  const good = JSON.parse(formatEvent(wholeMs(exec(1, 1))));
  const bad: [string, string, RegExp][] = [
    ['not JSON', '{"type":', /not valid JSON/],
    ['an array', '[1]', /not a JSON object/],
    ['null', 'null', /not a JSON object/],
    ['an unknown type', JSON.stringify({ ...good, type: 'clone' }), /unknown event type "clone"/],
    // Quoted input is escaped: no CSI (U+009B), NEL (U+0085), ESC or bidi override reaches stderr raw.
    ['a hostile unknown type', JSON.stringify({ ...good, type: '\u009b2J\u0085\u001b\u202e' }),
      /^unknown event type "\\u009b2J\\u0085\\u001b\\u202e"$/],
    ['a non-string type', JSON.stringify({ ...good, type: ['\u009b'] }), /^unknown event type \["\\u009b"\]$/],
    ['a missing field', JSON.stringify({ ...good, pid: undefined }), /missing "pid"/],
    ['a string pid', JSON.stringify({ ...good, pid: '1' }), /"pid" is not a non-negative integer/],
    ['a negative ppid', JSON.stringify({ ...good, ppid: -1 }), /"ppid"/],
    ['a fractional uid', JSON.stringify({ ...good, uid: 1.5 }), /"uid"/],
    ['a numeric comm', JSON.stringify({ ...good, comm: 5 }), /"comm" is not a string/],
    ['a bad time', JSON.stringify({ ...good, time: 'yesterday' }), /"time" is not an ISO-8601/],
    ['a local time', JSON.stringify({ ...good, time: '2025-01-01T00:00:00' }), /"time"/],
    ['a numeric cgroup id', JSON.stringify({ ...good, cgroup_id: 5 }), /"cgroup_id" is not a string/],
    ['a cgroup id with letters', JSON.stringify({ ...good, cgroup_id: '12ab' }), /"cgroup_id" is not a decimal/],
    ['args with a number', JSON.stringify({ ...good, args: ['a', 1] }), /"args" is not an array of strings/],
    ['args as a string', JSON.stringify({ ...good, args: 'a b' }), /"args"/],
    ['a string flag', JSON.stringify({ ...good, args_truncated: 'no' }), /"args_truncated" is not a boolean/],
    ['a string start', JSON.stringify({ ...good, start: '1e400' }), /"start" is not a non-negative number/],
    ['an exit without exit_code', JSON.stringify({ ...JSON.parse(formatEvent(exit(1, 1))), exit_code: undefined }), /missing "exit_code"/],
    ['a fork without child_pid', JSON.stringify({ ...JSON.parse(formatEvent(fork(1, 1, 2, 2))), child_pid: undefined }), /missing "child_pid"/],
    ['an unknown inferred', JSON.stringify({ ...JSON.parse(formatEvent(exit(1, 1))), inferred: 'guessed' }), /"inferred" is not zombie or vanished/],
    ['a boolean inferred', JSON.stringify({ ...JSON.parse(formatEvent(exit(1, 1))), inferred: true }), /"inferred" is not a string/],
    ['a string recovered', JSON.stringify({ ...good, recovered: 'yes' }), /"recovered" is not a boolean/],
    ['a string seeded exit', JSON.stringify({ ...JSON.parse(formatEvent(exit(1, 1))), seeded: 1 }), /"seeded" is not a boolean/],
  ];
  for (const [what, line, reason] of bad) {
    it(`rejects ${what} with a short reason`, () => {
      expectOneLineError(() => parseEvent(line), RecordingError, reason);
    });
  }
});

describe('lost records', () => {
  const lost: LostRecord = {
    type: 'lost', time: Date.UTC(2026, 0, 2, 3, 4, 5, 600), stage: 'kernel_ring', count: 1234,
    since: Date.UTC(2026, 0, 2, 3, 4, 4, 600), until: Date.UTC(2026, 0, 2, 3, 4, 5, 600),
  };

  it('is one line in the contract, key order included', () => {
    expect(formatEvent(lost)).toBe('{"type":"lost","time":"2026-01-02T03:04:05.600Z","stage":"kernel_ring","count":1234,'
      + '"since":"2026-01-02T03:04:04.600Z","until":"2026-01-02T03:04:05.600Z"}');
    expect(eventToJson(lost)).toEqual({
      type: 'lost', time: '2026-01-02T03:04:05.600Z', stage: 'kernel_ring', count: 1234,
      since: '2026-01-02T03:04:04.600Z', until: '2026-01-02T03:04:05.600Z',
    });
  });

  it('round-trips through parseRecord for every stage', () => {
    for (const stage of ['kernel_ring', 'addon_queue', 'traced_map'] as const) {
      expect(parseRecord(formatEvent({ ...lost, stage }))).toEqual({ ...lost, stage });
    }
    expect(parseRecord(formatEvent({ ...lost, count: 0 }))).toEqual({ ...lost, count: 0 });
  });

  it('is not an event: parseEvent refuses it', () => {
    expectOneLineError(() => parseEvent(formatEvent(lost)), RecordingError, /unknown event type "lost"/);
  });

  const good = JSON.parse(formatEvent(lost));
  const bad: [string, string, RegExp][] = [
    ['an unknown stage', JSON.stringify({ ...good, stage: 'disk' }), /"stage" is not one of kernel_ring, addon_queue, traced_map/],
    ['a numeric stage', JSON.stringify({ ...good, stage: 1 }), /"stage" is not a string/],
    ['a missing stage', JSON.stringify({ ...good, stage: undefined }), /missing "stage"/],
    ['a negative count', JSON.stringify({ ...good, count: -1 }), /"count" is not a non-negative integer/],
    ['a fractional count', JSON.stringify({ ...good, count: 1.5 }), /"count"/],
    ['a missing since', JSON.stringify({ ...good, since: undefined }), /missing "since"/],
    ['a local until', JSON.stringify({ ...good, until: '2026-01-02T03:04:05' }), /"until" is not an ISO-8601/],
  ];
  for (const [what, line, reason] of bad) {
    it(`rejects ${what} with a short reason`, () => {
      expectOneLineError(() => parseRecord(line), RecordingError, reason);
    });
  }
});

describe('recording header', () => {
  const header: RecordingHeader = {
    type: 'header', version: '0.1.0', source: 'bpf', filter: ['python*', 'uvicorn'], followChildren: true,
    bootTime: Date.UTC(2026, 0, 2, 0, 0, 0, 123),
  };

  it('is one JSON line in the contract', () => {
    const line = formatHeader(header);
    expect(line).not.toContain('\n');
    expect(line).toBe('{"type":"header","version":"0.1.0","source":"bpf","filter":["python*","uvicorn"],'
      + '"follow_children":true,"boot_time":"2026-01-02T00:00:00.123Z"}');
  });

  it('escapes what JSON.stringify leaves raw, like every other line (a filter may hold U+2028)', () => {
    const odd = { ...header, filter: ['py\u2028', 'x\u2029'], version: '1\u009b' };
    const line = formatHeader(odd);
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
    expect(line).toContain('"filter":["py\\u2028","x\\u2029"]');
    expect(parseRecord(line)).toEqual(odd);
    const bidi = formatHeader({ ...header, filter: [`py${BIDI}`] });
    expect(bidi).not.toMatch(BIDI_RE);
    expect(bidi).toContain(`"filter":["py${BIDI_ESCAPED}"]`);
  });

  it('round-trips through parseRecord, for every source', () => {
    for (const source of ['bpf', 'proc', 'replay'] as const) {
      const h = { ...header, source, followChildren: source !== 'bpf', filter: source === 'proc' ? [] : header.filter };
      expect(parseRecord(formatHeader(h))).toEqual(h);
    }
  });

  it('is not an event: parseEvent refuses it', () => {
    expectOneLineError(() => parseEvent(formatHeader(header)), RecordingError, /unknown event type "header"/);
  });

  const good = JSON.parse(formatHeader(header));
  const bad: [string, string, RegExp][] = [
    ['an unknown source', JSON.stringify({ ...good, source: 'dtrace' }), /"source" is not bpf, proc or replay/],
    ['a filter that is a string', JSON.stringify({ ...good, filter: 'python*' }), /"filter" is not an array of strings/],
    ['a filter with a number', JSON.stringify({ ...good, filter: ['a', 1] }), /"filter" is not an array of strings/],
    ['a missing filter', JSON.stringify({ ...good, filter: undefined }), /missing "filter"/],
    ['a string follow_children', JSON.stringify({ ...good, follow_children: 'yes' }), /"follow_children" is not a boolean/],
    ['a numeric boot_time', JSON.stringify({ ...good, boot_time: 5 }), /"boot_time" is not a string/],
    ['a missing version', JSON.stringify({ ...good, version: undefined }), /missing "version"/],
  ];
  for (const [what, line, reason] of bad) {
    it(`rejects ${what} with a short reason`, () => {
      expectOneLineError(() => parseRecord(line), RecordingError, reason);
    });
  }

  it('parseRecord rejects what parseEvent rejects', () => {
    expectOneLineError(() => parseRecord('{"type":'), RecordingError, /not valid JSON/);
    expectOneLineError(() => parseRecord('[]'), RecordingError, /not a JSON object/);
    expectOneLineError(() => parseRecord('{"type":"clone"}'), RecordingError, /unknown event type "clone"/);
  });
});

describe('formatEvent fast path', () => {
  // The hand-built line must equal the reference serialisation exactly, key order included.
  const reference = (ev: StreamRecord) => escapeInvisible(JSON.stringify(eventToJson(ev)));
  const hostile = '\x1b[2J{bold}\x07"\\\n\u009b\u2028é😀' + BIDI;
  const base = {
    time: Date.UTC(2026, 10, 23, 7, 30, 4, 5) + 0.75, pid: 10, ppid: 1, tid: 11, uid: 0, comm: hostile,
    start: 676997608408, startedAt: Date.UTC(2026, 10, 23, 7, 30, 0, 999) + 0.2, cgroupId: '18446744073709551615',
  };
  const cases: StreamRecord[] = [
    { ...base, type: 'exec', filename: hostile, args: ['a', hostile, ''], argsTruncated: true },
    { ...base, type: 'exec', filename: '', args: [], argsTruncated: false, seeded: true },
    { ...base, type: 'exec', filename: '/bin/sh', args: ['sh'], argsTruncated: false, recovered: true },
    { ...base, type: 'exec', filename: '/bin/sh', args: ['sh'], argsTruncated: false, seeded: true, recovered: true },
    { ...base, type: 'exit', exitCode: -1, signal: 9, coreDumped: true, durationMs: 1.25, cpuMs: NaN },
    { ...base, type: 'exit', exitCode: 0, signal: 0, coreDumped: false, durationMs: 0, cpuMs: 0, unknownStatus: true },
    { ...base, type: 'exit', exitCode: 3, signal: 0, coreDumped: false, durationMs: 5, cpuMs: 1, inferred: 'zombie' },
    { ...base, type: 'exit', exitCode: 0, signal: 6, coreDumped: true, durationMs: 5, cpuMs: 1, inferred: 'zombie', seeded: true },
    { ...base, type: 'exit', exitCode: 0, signal: 0, coreDumped: false, durationMs: 5, cpuMs: 0, inferred: 'vanished' },
    { ...base, type: 'exit', exitCode: 0, signal: 0, coreDumped: false, durationMs: 5, cpuMs: 0, unknownStatus: true, inferred: 'zombie', seeded: true },
    { ...base, type: 'exit', exitCode: 0, signal: 15, coreDumped: false, durationMs: 5, cpuMs: 1, killedBy: { pid: 3, comm: hostile, uid: 1000, kernel: false } },
    { ...base, type: 'exit', exitCode: 0, signal: 9, coreDumped: false, durationMs: 5, cpuMs: 1, killedBy: { pid: 0, comm: '', uid: 0, kernel: true }, oom: { rssKb: 65536 } },
    { ...base, type: 'exit', exitCode: 0, signal: 6, coreDumped: true, durationMs: 5, cpuMs: 1, killedBy: { pid: 10, comm: 'python3', uid: 0, kernel: false } },
    { type: 'lost', time: base.time, stage: 'addon_queue', count: 7, since: base.startedAt, until: base.time },
    { type: 'lost', time: 0, stage: 'traced_map', count: 0, since: 0, until: 999.9 },
    { ...base, type: 'fork', childPid: 12, childStart: 2 ** 60 },
    { ...base, type: 'fork', childPid: 12, childStart: 1, time: 0, startedAt: 999 },
    { ...base, type: 'exec', filename: '/bin/sh', args: ['sh'], argsTruncated: false, cgroup: '/' + hostile + '/x.scope', unit: hostile },
    { ...base, type: 'exec', filename: '/bin/sh', args: ['sh'], argsTruncated: false, cgroup: '/', unit: '', seeded: true },
    { ...base, type: 'exec', filename: '/bin/sh', args: ['sh'], argsTruncated: false, cgroup: '/a', memcgId: '5' },
    { ...base, type: 'exit', exitCode: 0, signal: 9, coreDumped: false, durationMs: 5, cpuMs: 1, cgroup: '/system.slice/x.service', unit: 'x.service' },
    { ...base, type: 'fork', childPid: 12, childStart: 1, cgroup: '/docker/' + 'a'.repeat(64), unit: 'aaaaaaaaaaaa' },
  ];
  it.each(cases.map((c, i) => [i, c] as const))('case %i equals the reference', (_i, ev) => {
    expect(formatEvent(ev)).toBe(reference(ev));
  });

  it('formats times as toISOString does, across second boundaries', () => {
    for (const t of [0, 999, 1000, 1001.9, Date.UTC(2026, 0, 1) - 1, Date.UTC(2026, 0, 1), 1.7e12 + 123.456]) {
      const ev: LifecycleEvent = { ...base, time: t, type: 'fork', childPid: 1, childStart: 1 };
      expect(JSON.parse(formatEvent(ev)).time).toBe(new Date(t).toISOString());
    }
  });
});

describe('where it ran: cgroup and unit', () => {
  it('writes cgroup and unit right after cgroup_id, only when known (memcgId never)', () => {
    const ev = { ...exec(4242, 10), cgroup: '/system.slice/nginx.service', unit: 'nginx.service', memcgId: '99' };
    const json = eventToJson(ev);
    expect(Object.keys(json).slice(9, 12)).toEqual(['cgroup_id', 'cgroup', 'unit']);
    expect(json).toMatchObject({ cgroup: '/system.slice/nginx.service', unit: 'nginx.service' });
    expect('memcg_id' in json || 'memcgId' in json).toBe(false);
    const bare = eventToJson(exec(4242, 10));
    expect('cgroup' in bare || 'unit' in bare).toBe(false);
  });

  it('round-trips cgroup and unit, hostile text escaped on one line', () => {
    const hostile = '/evil\x1b[2J{red-bg}\n\u009b' + BIDI + '.scope';
    const ev = wholeMs({ ...exit(7, 1, { code: 1 }), cgroup: hostile, unit: hostile.slice(1) });
    const line = formatEvent(ev);
    expect(line).not.toMatch(/[\x1b\n\u009b]/);
    expect(line).not.toMatch(BIDI_RE);
    expect(parseEvent(line)).toEqual(ev);
  });

  it('loads recordings without them (older versions) and rejects non-strings', () => {
    const old = JSON.parse(formatEvent(wholeMs(exec(4242, 10))));
    expect('cgroup' in parseEvent(JSON.stringify(old))).toBe(false);
    expectOneLineError(() => parseEvent(JSON.stringify({ ...old, cgroup: 5 })), RecordingError, /"cgroup" is not a string/);
    expectOneLineError(() => parseEvent(JSON.stringify({ ...old, unit: null })), RecordingError, /"unit" is not a string/);
  });
});

describe("README's NDJSON examples", () => {
  it('are lines the codec writes, byte for byte (every field, in order)', () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    const lines = [...readme.matchAll(/```json\n([\s\S]*?)```/g)].flatMap((m) => m[1].split('\n'))
      .filter((l) => /^\{"type":"(exec|exit|fork|lost)"/.test(l));
    expect(lines.some((l) => l.startsWith('{"type":"exit"'))).toBe(true);
    for (const line of lines) expect(formatEvent(parseRecord(line) as StreamRecord)).toBe(line);
  });
});
