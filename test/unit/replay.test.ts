import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProcessTable } from '../../src/model/processTable';
import { FilterSpec, LostRecord, RecordingHeader, StreamRecord } from '../../src/core/types';
import { formatEvent, formatHeader, RecordingError } from '../../src/core/ndjson';
import { Recorder, ReplaySource, ReplaySpeed } from '../../src/source/replay';
import { at, exec, exit, fork } from '../support/events';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'synthetic.ndjson');
const RECORDING = path.join(__dirname, '..', 'fixtures', 'session.ndjson');

/**
 * What test/fixtures/synthetic.ndjson (hand-written edge cases: seeded rows, pid reuse,
 * multiprocessing children) must produce.
 */
const EXPECTED_TABLE = [
  { key: '900:12050', state: 'running', exitCode: null, signal: null, seeded: true, label: '/opt/monitor/agent.py' },
  { key: '2001:540010', state: 'running', exitCode: null, signal: null, seeded: false, label: 'uvicorn app.main:app master' },
  { key: '2002:540061', state: 'running', exitCode: null, signal: null, seeded: false, label: "-c 'from multiprocessing.resource_tracker i…'" },
  { key: '2003:540065', state: 'running', exitCode: null, signal: null, seeded: false, label: 'uvicorn app.main:app worker' },
  { key: '2004:540069', state: 'running', exitCode: null, signal: null, seeded: false, label: 'uvicorn app.main:app worker' },
  { key: '3001:540200', state: 'exited', exitCode: 0, signal: 0, seeded: false, label: 'jobs.py' },
  { key: '3002:540230', state: 'exited', exitCode: 0, signal: 0, seeded: false, label: '/bin/sh -c true' },
  { key: '3003:540240', state: 'exited', exitCode: 3, signal: 0, seeded: false, label: '/bin/sh -c exit 3' },
  { key: '3004:540250', state: 'exited', exitCode: 0, signal: 9, seeded: false, label: 'sleep 60' },
  { key: '3005:540300', state: 'exited', exitCode: 0, signal: 0, seeded: false, label: './\u001b[2J{bold} line1\nline2' },
  { key: '3002:540400', state: 'exited', exitCode: 0, signal: 0, seeded: false, label: '/bin/sh -c true' },
  { key: '3006:540420', state: 'exited', exitCode: 0, signal: 0, seeded: false, label: 'mp worker of jobs.py' },
  { key: '3007:540500', state: 'exited', exitCode: 1, signal: 0, seeded: false, label: 'jobs.py' },
  { key: '2005:540510', state: 'exited', exitCode: 0, signal: 0, seeded: false, label: 'uvicorn app.main:app worker' },
  { key: '3100:540650', state: 'running', exitCode: null, signal: null, seeded: false, label: '-m http.server' },
  { key: '3200:540700', state: 'exited', exitCode: 0, signal: 0, seeded: false, label: "-c 'print('hi')'" },
  { key: '3300:540800', state: 'exited', exitCode: 0, signal: 0, seeded: false, label: 'short.py' },
];

const HEADER: RecordingHeader = {
  type: 'header', version: '0.1.0', source: 'bpf', filter: ['python*'], followChildren: true, bootTime: at(0),
};

/** The pid of an event (a lost record has none). */
function pidOf(r: StreamRecord): number {
  return r.type === 'lost' ? -1 : r.pid;
}

/** What survives a round trip: the ISO-8601 times keep whole milliseconds. */
function wholeMs(r: StreamRecord): StreamRecord {
  return r.type === 'lost' ? r : { ...r, time: Math.floor(r.time), startedAt: Math.floor(r.startedAt) };
}

interface Run { batches: StreamRecord[][]; warnings: string[]; source: ReplaySource }

async function replay(file: string, o: { speed?: ReplaySpeed; onBadLine?: 'skip' | 'abort'; filter?: FilterSpec } = {}): Promise<Run> {
  const warnings: string[] = [];
  const source = new ReplaySource(file, { speed: o.speed ?? 'max', onBadLine: o.onBadLine ?? 'skip', warn: (m) => warnings.push(m) });
  if (o.filter) source.setFilter(o.filter);
  const batches: StreamRecord[][] = [];
  source.start((batch) => batches.push(batch));
  await source.done;
  return { batches, warnings, source };
}

/** As the session does: one apply per batch, on the recording's clock. */
function tableFrom(batches: StreamRecord[][]): ProcessTable {
  const table = new ProcessTable();
  let now = 0;
  for (const batch of batches) {
    now = Math.max(now, batch[batch.length - 1].time);
    table.apply(batch, now);
  }
  return table;
}

/**
 * What the real recording (test/fixtures/record-session.sh, kernel events delivered in
 * the order two CPUs produced them) must produce, from what that session did: uvicorn
 * with two workers and its resource tracker still running; jobs.py and its two forked
 * children (exit 0, exit 3), each running `sh -c true`; a sleeper killed by SIGKILL; a
 * shell started through a symlink with a hostile name, whose child ran `sleep 0.3`.
 */
const JOBS = '$WORK/jobs.py';
const RECORDED_TABLE = [
  { key: '20264:127696', state: 'running', exitCode: null, signal: null, label: 'uvicorn app:app master' },
  { key: '20266:127712', state: 'running', exitCode: null, signal: null, label: "-c 'from multiprocessing.resource_tracker i…'" },
  { key: '20267:127713', state: 'running', exitCode: null, signal: null, label: 'uvicorn app:app worker' },
  { key: '20268:127713', state: 'running', exitCode: null, signal: null, label: 'uvicorn app:app worker' },
  { key: '20269:127946', state: 'exited', exitCode: 0, signal: 0, label: JOBS },
  { key: '20270:127949', state: 'exited', exitCode: 0, signal: 0, label: JOBS },
  { key: '20271:127949', state: 'exited', exitCode: 3, signal: 0, label: JOBS },
  { key: '20272:127949', state: 'exited', exitCode: 0, signal: 0, label: 'sh -c true' },
  { key: '20273:127949', state: 'exited', exitCode: 0, signal: 0, label: 'sh -c true' },
  { key: '20274:127949', state: 'exited', exitCode: 0, signal: 9, label: "-c 'import time; time.sleep(60)'" },
  { key: '20275:127949', state: 'exited', exitCode: 0, signal: 0,
    label: '$WORK/\u001b[2J{bold}\u0007 -c sleep 0.3 evil\nline\u001b[31m{red-fg}' },
  { key: '20276:127949', state: 'exited', exitCode: 0, signal: 0, label: 'sleep 0.3' },
];

/**
 * The temporary directory the recording was made in (mktemp -d, a new name each time): record-session.sh
 * runs `python3 $WORK/jobs.py $WORK`. Labels under it are compared as `$WORK/...`.
 */
function workDir(file: string): string {
  const jobs = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { type: string; args?: string[] })
    .find((r) => r.type === 'exec' && r.args?.[1]?.endsWith('/jobs.py'));
  expect(jobs?.args, 'the recording has the exec of jobs.py').toBeDefined();
  const work = jobs!.args![2];
  expect(jobs!.args![1]).toBe(`${work}/jobs.py`);
  expect(work).toMatch(/^\/\S+$/);
  return work;
}

describe('the real recording', () => {
  it('replays into the table that session had', async () => {
    const { batches, warnings } = await replay(RECORDING);
    expect(warnings).toEqual([]);
    const work = workDir(RECORDING);
    const rows = tableFrom(batches).view({ sort: { column: 'pid', descending: false }, query: '', showExited: true }, Infinity);
    const unworked = (label: string) => (label.startsWith(`${work}/`) ? `$WORK${label.slice(work.length)}` : label);
    expect(rows.map((r) => ({ key: r.key, state: r.state, exitCode: r.exitCode, signal: r.signal, label: unworked(r.label) })))
      .toEqual(RECORDED_TABLE);
    expect(rows.find((r) => r.pid === 20275)!.comm).toBe('\u001b[2J{bold}\u0007');
    expect(rows.find((r) => r.pid === 20267)!.ppid).toBe(20264);
  });
});

describe('the synthetic fixture', () => {
  it('replays into exactly the expected table', async () => {
    const { batches, warnings } = await replay(FIXTURE);
    expect(warnings).toEqual([]);
    const table = tableFrom(batches);
    const rows = table.view({ sort: { column: 'started', descending: false }, query: '', showExited: true }, Infinity);
    const actual = rows.map((r) => ({ key: r.key, state: r.state, exitCode: r.exitCode, signal: r.signal, seeded: r.seeded, label: r.label }));
    expect(actual).toEqual(EXPECTED_TABLE);
  });

  it('keeps only what a filter traces, following children only when asked', async () => {
    const keysWith = async (filter: FilterSpec) =>
      tableFrom((await replay(FIXTURE, { filter })).batches).view({ sort: { column: 'pid', descending: false }, query: '', showExited: true }, 0)
        .map((r) => r.pid);
    expect(await keysWith({ patterns: ['uvicorn'], followChildren: true })).toEqual([2001, 2002, 2003, 2004, 2005]);
    expect(await keysWith({ patterns: ['uvicorn'], followChildren: false })).toEqual([2001]);
    expect(await keysWith({ patterns: ['sleep'], followChildren: true })).toEqual([3004]);
  });
});

describe('ReplaySource', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifetop-replay-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function write(name: string, lines: string[]): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, lines.map((l) => l + '\n').join(''));
    return file;
  }

  it('delivers everything in order, in batches, yielding to the event loop between them', async () => {
    const events = Array.from({ length: 1200 }, (_, i) => exec(1000 + i, 1 + i * 0.001));
    const file = write('many.ndjson', events.map(formatEvent));
    const source = new ReplaySource(file, { speed: 'max', onBadLine: 'abort', warn: () => undefined });
    const order: string[] = [];
    const ticker = setInterval(() => order.push('tick'), 0);
    const delivered: number[] = [];
    source.start((batch) => {
      order.push('batch');
      delivered.push(...batch.map(pidOf));
    });
    await source.done;
    clearInterval(ticker);
    expect(delivered).toEqual(events.map((e) => e.pid));
    const batches = order.filter((o) => o === 'batch').length;
    expect(batches).toBeGreaterThanOrEqual(3);
    // Something else ran between the first and the last batch.
    expect(order.slice(order.indexOf('batch'), order.lastIndexOf('batch')).includes('tick')).toBe(true);
    expect(source.counters()).toMatchObject({ execs: 1200, tracedExecs: 1200, forks: 0, exits: 0 });
  });

  it("'max' hands over close events together; 'realtime' and a speed factor keep the recorded gaps apart", async () => {
    const lines = [exec(1, 1, { time: at(10) }), exec(2, 1, { time: at(11) }), exec(3, 1, { time: at(12) })].map(formatEvent);
    const file = write('gaps.ndjson', lines);
    expect((await replay(file, { speed: 'max' })).batches.map((b) => b.length)).toEqual([3]);
    expect((await replay(file, { speed: 20 })).batches.map((b) => b.length)).toEqual([1, 1, 1]);
    const close = write('close.ndjson', [exec(1, 1, { time: at(10) }), exec(2, 1, { time: at(10.001) })].map(formatEvent));
    expect((await replay(close, { speed: 'realtime' })).batches.map((b) => b.length)).toEqual([2]);
  });

  it('skips malformed and blank lines with a warning naming file and line', async () => {
    const file = write('bad.ndjson', [formatEvent(exec(1, 1)), '', 'garbage', '{"type":"exec"}', formatEvent(exit(1, 1))]);
    const { batches, warnings } = await replay(file);
    expect(batches.flat().map((e) => e.type)).toEqual(['exec', 'exit']);
    expect(warnings).toEqual([`${file}:3: not valid JSON`, `${file}:4: missing "time"`]);
  });

  it('escapes what a warning quotes: C1 controls, bidi controls and newlines in the input or the file name', async () => {
    // U+009B is a one-byte CSI (ESC [), U+0085 a line break for some terminals, U+202E reverses the text after it.
    const file = write('evil\u202elmth.\u009b2J\u0085\n.ndjson', [
      JSON.stringify({ ...JSON.parse(formatEvent(exec(1, 1))), type: '\u009b2J\u0085\u202e' }), formatEvent(exec(2, 1)),
    ]);
    const shown = JSON.stringify(file).replace(/[\u0085\u009b\u202e]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
    expect(shown).toContain('evil\\u202elmth.\\u009b2J\\u0085\\n.ndjson"');
    const { batches, warnings } = await replay(file);
    expect(warnings).toEqual([`${shown}:1: unknown event type "\\u009b2J\\u0085\\u202e"`]);
    expect(batches.flat().map(pidOf)).toEqual([2]);
    const source = new ReplaySource(file, { speed: 'max', onBadLine: 'abort', warn: () => undefined });
    source.start(() => undefined);
    await expect(source.done).rejects.toThrow(`${shown}:1: unknown event type "\\u009b2J\\u0085\\u202e"`);
    // Not even the reason of a failed open repeats the name raw.
    const missing = path.join(dir, 'no\nsuch\u009b\u202e.ndjson');
    const gone = new ReplaySource(missing, { speed: 'max', onBadLine: 'skip', warn: () => undefined });
    gone.start(() => undefined);
    const err = await gone.done.then(() => null, (e: Error) => e);
    expect(err?.message).toBe(`cannot read ${JSON.stringify(missing).replace('\u009b', '\\u009b').replace('\u202e', '\\u202e')}: `
      + 'ENOENT: no such file or directory');
  });

  it("with 'abort' rejects done with a RecordingError carrying the same message", async () => {
    const file = write('bad.ndjson', [formatEvent(exec(1, 1)), '{"type":"exec"}', formatEvent(exit(1, 1))]);
    const source = new ReplaySource(file, { speed: 'max', onBadLine: 'abort', warn: () => undefined });
    source.start(() => undefined);
    await expect(source.done).rejects.toThrow(RecordingError);
    await expect(source.done).rejects.toThrow(`${file}:2: missing "time"`);
  });

  it('rejects done with one line for a missing file or a directory', async () => {
    const missing = path.join(dir, 'nope.ndjson');
    const source = new ReplaySource(missing, { speed: 'max', onBadLine: 'skip', warn: () => undefined });
    source.start(() => undefined);
    await expect(source.done).rejects.toThrow(RecordingError);
    await expect(source.done).rejects.toThrow(new RegExp(`^cannot read ${missing}: ENOENT: no such file or directory$`));
    const asDir = new ReplaySource(dir, { speed: 'max', onBadLine: 'skip', warn: () => undefined });
    asDir.start(() => undefined);
    await expect(asDir.done).rejects.toThrow(/^cannot read .*: EISDIR/);
  });

  it('stops on stop(): done resolves and nothing more arrives', async () => {
    const file = write('slow.ndjson', [exec(1, 1, { time: at(10) }), exec(2, 1, { time: at(3610) })].map(formatEvent));
    const source = new ReplaySource(file, { speed: 'realtime', onBadLine: 'skip', warn: () => undefined });
    const got: number[] = [];
    source.start((batch) => got.push(...batch.map(pidOf)));
    await vi.waitFor(() => expect(got).toEqual([1]), { timeout: 5_000 }); // the first event, at once
    source.stop(); // while it waits an hour (of recorded time) for the second
    await source.done;
    expect(got).toEqual([1]);
  });

  const lost = (stage: LostRecord['stage'], count: number, sec: number): LostRecord =>
    ({ type: 'lost', time: at(sec), stage, count, since: at(sec - 1), until: at(sec) });

  it('exposes the header without delivering it, and delivers and counts lost records', async () => {
    const records: StreamRecord[] = [
      exec(1, 1, { time: at(2) }), lost('kernel_ring', 40, 3), fork(1, 1, 2, 3.5), lost('addon_queue', 2, 4), lost('traced_map', 1, 4),
      exit(2, 3.5, { endSec: 5 }),
    ];
    const file = write('with-header.ndjson', [formatHeader(HEADER), ...records.map(formatEvent)]);
    const source = new ReplaySource(file, { speed: 'max', onBadLine: 'abort', warn: () => undefined });
    expect(source.header).toBeNull();
    const got: StreamRecord[] = [];
    source.start((batch) => got.push(...batch));
    await source.done;
    expect(source.header).toEqual(HEADER);
    expect(got).toEqual(records.map(wholeMs));
    expect(source.counters()).toMatchObject({
      execs: 1, forks: 1, exits: 1, drops: 40, queueDrops: 2, trackFails: 1,
    });
  });

  it('keeps the first header of a recording appended to later, and has none for a recording without one', async () => {
    const second = { ...HEADER, source: 'proc' as const, filter: ['sleep'] };
    const appended = write('appended.ndjson', [formatHeader(HEADER), formatEvent(exec(1, 1)), formatHeader(second), formatEvent(exec(2, 1))]);
    const run = await replay(appended, { onBadLine: 'abort' });
    expect(run.source.header).toEqual(HEADER);
    expect(run.batches.flat().map((e) => e.type)).toEqual(['exec', 'exec']);
    const bare = await replay(write('bare.ndjson', [formatEvent(exec(1, 1))]));
    expect(bare.source.header).toBeNull();
  });

  it('skips a malformed header like any bad line', async () => {
    const file = write('bad-header.ndjson', [JSON.stringify({ ...JSON.parse(formatHeader(HEADER)), source: 'dtrace' }), formatEvent(exec(1, 1))]);
    const { batches, warnings, source } = await replay(file);
    expect(warnings).toEqual([`${file}:1: "source" is not bpf, proc or replay`]);
    expect(source.header).toBeNull();
    expect(batches.flat()).toHaveLength(1);
  });

  it('without setFilter passes everything recorded, forks whose parent exec is absent included', async () => {
    // A recording made with a filter holds only what that filter traced, and seeded rows whose exec came from /proc.
    const records: StreamRecord[] = [
      fork(50, 1, 51, 2, { comm: 'gunicorn' }), exit(51, 2, { comm: 'gunicorn', endSec: 3 }), exec(60, 1, { comm: 'unrelated' }),
      fork(60, 1, 61, 2.5, { comm: 'unrelated' }), lost('kernel_ring', 3, 4),
    ];
    const file = write('unfiltered.ndjson', [formatHeader({ ...HEADER, filter: ['gunicorn'] }), ...records.map(formatEvent)]);
    const { batches } = await replay(file);
    expect(batches.flat()).toEqual(records.map(wholeMs));
  });

  it('with a filter still delivers every lost record: a gap is a gap whatever the filter', async () => {
    const records: StreamRecord[] = [exec(1, 1, { comm: 'other' }), lost('kernel_ring', 3, 2), exec(2, 1, { comm: 'python3' }), lost('traced_map', 1, 3)];
    const file = write('filtered.ndjson', records.map(formatEvent));
    const { batches, source } = await replay(file, { filter: { patterns: ['python*'], followChildren: true } });
    expect(batches.flat()).toEqual(records.slice(1).map(wholeMs));
    expect(source.counters()).toMatchObject({ execs: 1, drops: 3, trackFails: 1 });
  });

  it('refuses a speed that is not positive', () => {
    expect(() => new ReplaySource('x', { speed: 0, onBadLine: 'skip', warn: () => undefined })).toThrow(/positive/);
    expect(() => new ReplaySource('x', { speed: -2, onBadLine: 'skip', warn: () => undefined })).toThrow(/positive/);
  });
});

describe('Recorder', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifetop-rec-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('appends events that replay back equal', async () => {
    const file = path.join(dir, 'rec.ndjson');
    const first = [exec(1, 1, { time: at(2) }), fork(1, 1, 2, 3)];
    const second = [exec(2, 3, { comm: 'sh\u001b', args: ['sh', '-c', 'a\nb'], time: at(4) }), exit(2, 3, { code: 3 })];
    const a = await Recorder.open(file, HEADER);
    a.write(first);
    a.write([]);
    await a.close();
    const b = await Recorder.open(file, { ...HEADER, filter: ['sh'] });
    b.write(second);
    await b.close();
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    expect(lines).toHaveLength(7);
    // Each opening starts with a header saying how that part was made.
    expect(lines[0]).toBe(formatHeader(HEADER));
    expect(lines[3]).toBe(formatHeader({ ...HEADER, filter: ['sh'] }));
    const { batches, source } = await replay(file, { onBadLine: 'abort' });
    expect(batches.flat()).toEqual([...first, ...second].map(wholeMs));
    expect(source.header).toEqual(HEADER);
  });

  it('records lost records too, and they replay back equal', async () => {
    const file = path.join(dir, 'rec.ndjson');
    const records: StreamRecord[] = [
      exec(1, 1, { time: at(2) }),
      { type: 'lost', time: at(3), stage: 'addon_queue', count: 12, since: at(2), until: at(3) },
      exit(1, 1, { endSec: 4 }),
    ];
    const r = await Recorder.open(file, HEADER);
    r.write(records);
    await r.close();
    const { batches } = await replay(file, { onBadLine: 'abort' });
    expect(batches.flat()).toEqual(records.map(wholeMs));
  });

  it('fails to open with one line naming the path and the reason', async () => {
    const file = path.join(dir, 'missing', 'rec.ndjson');
    await expect(Recorder.open(file, HEADER)).rejects.toThrow(RecordingError);
    await expect(Recorder.open(file, HEADER)).rejects.toThrow(new RegExp(`^cannot open recording ${file}: ENOENT: no such file or directory$`));
  });

  it('can be closed twice', async () => {
    const r = await Recorder.open(path.join(dir, 'rec.ndjson'), HEADER);
    await r.close();
    await r.close();
    r.write([exec(1, 1)]);
    expect(fs.readFileSync(path.join(dir, 'rec.ndjson'), 'utf8')).toBe(formatHeader(HEADER) + '\n');
  });
});
