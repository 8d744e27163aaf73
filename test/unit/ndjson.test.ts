import { describe, expect, it } from 'vitest';
import { expectOneLineError } from '../support/errors';
import { escapeInvisible, eventToJson, formatEvent, parseEvent, RecordingError } from '../../src/output/ndjson';
import type { LifecycleEvent } from '../../src/model/types';
import { exec, exit, fork } from '../support/events';

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
  });

  it('writes the exit and fork contracts', () => {
    const ex = eventToJson(exit(7, 1, { code: 3, signal: 0, core: false }));
    expect(ex).toMatchObject({ type: 'exit', exit_code: 3, signal: 0, core_dumped: false, cpu_ms: 12 });
    expect(typeof ex.duration_ms).toBe('number');
    expect('unknown_status' in ex).toBe(false);
    expect(eventToJson(exit(7, 1, { unknownStatus: true })).unknown_status).toBe(true);
    const fk = eventToJson(fork(7, 1, 8, 2));
    expect(fk).toMatchObject({ type: 'fork', pid: 7, child_pid: 8 });
    expect(fk.child_start).toBe(fork(7, 1, 8, 2).childStart);
  });
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
});

describe('parseEvent', () => {
  it('round-trips every event type', () => {
    const events: LifecycleEvent[] = [
      exec(10, 1, { args: ['python3', '-c', 'print("x")'], comm: '\u001b]0;x\u0007' }),
      { ...exec(11, 1), seeded: true, argsTruncated: true },
      exit(10, 1, { code: 255, signal: 0 }),
      exit(12, 1, { signal: 9, core: true }),
      exit(13, 1, { unknownStatus: true }),
      fork(10, 1, 14, 1.5),
    ].map(wholeMs);
    for (const ev of events) expect(parseEvent(formatEvent(ev))).toEqual(ev);
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
  ];
  for (const [what, line, reason] of bad) {
    it(`rejects ${what} with a short reason`, () => {
      expectOneLineError(() => parseEvent(line), RecordingError, reason);
    });
  }
});

describe('formatEvent fast path', () => {
  // The hand-built line must equal the reference serialisation exactly, key order included.
  const reference = (ev: LifecycleEvent) => escapeInvisible(JSON.stringify(eventToJson(ev)));
  const hostile = '\x1b[2J{bold}\x07"\\\n\u009b\u2028é😀';
  const base = {
    time: Date.UTC(2026, 10, 23, 7, 30, 4, 5) + 0.75, pid: 10, ppid: 1, tid: 11, uid: 0, comm: hostile,
    start: 676997608408, startedAt: Date.UTC(2026, 10, 23, 7, 30, 0, 999) + 0.2, cgroupId: '18446744073709551615',
  };
  const cases: LifecycleEvent[] = [
    { ...base, type: 'exec', filename: hostile, args: ['a', hostile, ''], argsTruncated: true },
    { ...base, type: 'exec', filename: '', args: [], argsTruncated: false, seeded: true },
    { ...base, type: 'exit', exitCode: -1, signal: 9, coreDumped: true, durationMs: 1.25, cpuMs: NaN },
    { ...base, type: 'exit', exitCode: 0, signal: 0, coreDumped: false, durationMs: 0, cpuMs: 0, unknownStatus: true },
    { ...base, type: 'fork', childPid: 12, childStart: 2 ** 60 },
    { ...base, type: 'fork', childPid: 12, childStart: 1, time: 0, startedAt: 999 },
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
