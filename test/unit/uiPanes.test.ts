// Panes are pure text builders: model state in, exact-width tagged lines out. Tested without a terminal.
import { describe, expect, it } from 'vitest';
import type { ProcessRow } from '../../src/model/processTable';
import type { LifecycleEvent, StreamRecord } from '../../src/core/types';
import { detailsBody } from '../../src/ui/details';
import { renderLog } from '../../src/ui/logPane';
import { helpBody, renderHint } from '../../src/ui/help';
import { NEW_ROW_MS, renderTable, tableColumns, type TableView } from '../../src/ui/tablePane';
import { renderPrompt } from '../../src/ui/prompt';
import { renderSparks, sparkline, type RateName, type RateSource } from '../../src/ui/sparklines';
import { renderStatus, type StatusInfo } from '../../src/ui/statusBar';
import { frame, line } from '../../src/ui/text';
import { makeTheme } from '../../src/ui/theme';
import { plain } from '../support/tags';
import { initialViewState } from '../../src/ui/viewState';

const color = makeTheme({ color: true, ascii: false });
const mono = makeTheme({ color: false, ascii: true });
const NOW = new Date(2024, 4, 17, 12, 0, 0).getTime();

const lines = (tagged: string): string[] => plain(tagged).split('\n');

function row(over: Partial<ProcessRow> = {}): ProcessRow {
  const pid = over.pid ?? 100;
  return {
    key: `${pid}:1`, pid, ppid: 1, uid: 0, user: 'root', comm: 'python3', filename: '/usr/bin/python3',
    args: ['python3', 'app.py'], argsTruncated: false, label: 'app.py', start: 1e9, startedAt: NOW - 65_000,
    firstSeenAt: NOW - 60_000, endSeenAt: null, execs: 1, lastExecAt: NOW - 65_000, state: 'running', exitCode: null, signal: null, coreDumped: false, exitedAt: null,
    lifetimeMs: null, cpuPct: 1.5, rssKb: 20480, seeded: false, recovered: false, exitFromProc: false, cgroupId: '42',
    killedBy: null, oomRssKb: null, oomMemcg: null, cgroup: '/system.slice/app.service', unit: 'app.service', ...over,
  };
}

const view = (over: Partial<TableView> = {}): TableView => ({
  selected: 0, scroll: 0, sort: { column: 'pid', descending: false }, focused: true, emptyText: 'nothing', ...over,
});

describe('process table pane', () => {
  it('fits columns to the width, widest terminals get all of them', () => {
    for (const w of [60, 80, 100, 160]) {
      const cols = tableColumns(w);
      expect(cols.reduce((s, c) => s + c.width, 0) + cols.length - 1).toBe(w);
      expect(cols.find((c) => c.id === 'label')!.width).toBeGreaterThanOrEqual(w >= 80 ? 20 : 1);
    }
    expect(tableColumns(160).map((c) => c.title)).toEqual(
      ['PID', 'PPID', 'USER', 'COMM', 'LABEL/ARGS', 'STARTED', 'AGE', 'CPU%', 'RSS', 'UNIT', 'STATE']);
    // UNIT is the first to go when the terminal narrows; the resource columns stay a little longer.
    expect(tableColumns(110).map((c) => c.id)).not.toContain('unit');
    expect(tableColumns(110).map((c) => c.id)).toContain('rss');
    expect(tableColumns(80).map((c) => c.id)).toEqual(expect.arrayContaining(['pid', 'ppid', 'comm', 'label', 'state']));
  });

  it('shows the unit in UNIT, hostile cgroup names sanitized like comm', () => {
    const evil = row({ unit: '\x1b[2J{red-bg}x.scope', cgroup: '/\x1b[2J{red-bg}x.scope' });
    const text = renderTable([row(), evil], view(), 160, 5, color, NOW);
    expect(text).toContain('app.service');
    expect(text).not.toContain('\x1b[2J');
  });

  it('renders header plus only the visible window of a huge table', () => {
    const total = 50_000;
    const scroll = 20_000;
    const touched = new Set<number>();
    const backing = Array.from({ length: total }, (_, i) => row({ pid: i + 1, key: `${i + 1}:1` }));
    const rows = new Proxy(backing, {
      get(target, prop, recv) {
        if (typeof prop === 'string' && /^\d+$/.test(prop)) touched.add(Number(prop));
        return Reflect.get(target, prop, recv);
      },
    });
    const out = lines(renderTable(rows, view({ scroll, selected: scroll + 3 }), 100, 12, color, NOW));
    expect(out).toHaveLength(12);
    expect(out[1]).toMatch(/^\s*20001 /);
    expect(out[11]).toMatch(/^\s*20011 /);
    expect(Math.min(...touched)).toBe(scroll);
    expect(Math.max(...touched)).toBe(scroll + 10);
    for (const l of out) expect(l).toHaveLength(100);
  });

  it('marks the sorted column with the direction, in Unicode or ASCII', () => {
    const asc = lines(renderTable([row()], view({ sort: { column: 'comm', descending: false } }), 100, 3, color, NOW))[0];
    expect(asc).toMatch(/COMM▲/);
    const desc = lines(renderTable([row()], view({ sort: { column: 'pid', descending: true } }), 100, 3, mono, NOW))[0];
    expect(desc).toMatch(/PIDv/);
    expect(desc).not.toMatch(/[▲▼]/);
  });

  it('shows exit codes, signals and lost rows, and colours them apart', () => {
    const rows = [
      row({ pid: 1, state: 'exited', exitCode: 3, signal: 0, lifetimeMs: 1500 }),
      row({ pid: 2, state: 'exited', exitCode: 0, signal: 9, lifetimeMs: 800 }),
      row({ pid: 3, state: 'lost' }),
      row({ pid: 4, state: 'exited', exitCode: 0, signal: 0, lifetimeMs: 10 }),
      row({ pid: 5 }),
    ];
    const tagged = renderTable(rows, view({ selected: -1 }), 100, 6, color, NOW).split('\n');
    const text = tagged.map(plain);
    expect(text[1]).toMatch(/exit 3\s*$/);
    expect(text[2]).toMatch(/SIGKILL\s*$/);
    expect(text[3]).toMatch(/lost\s*$/);
    expect(text[4]).toMatch(/exit 0\s*$/);
    expect(text[5]).toMatch(/run\s*$/);
    expect(tagged[1]).toContain('{red-fg}');
    expect(tagged[2]).toContain('{red-fg}');
    expect(tagged[3]).toContain('{yellow-fg}');
    expect(tagged[4]).toContain('{magenta-fg}');
    expect(tagged[5]).not.toMatch(/-fg\}/);
  });

  it('prefixes Z to an exit read from a zombie in /proc', () => {
    const rows = [
      row({ pid: 1, state: 'exited', exitCode: 3, signal: 0, exitFromProc: true }),
      row({ pid: 2, state: 'exited', exitCode: 0, signal: 9, exitFromProc: true }),
      row({ pid: 3, state: 'exited', exitCode: 3, signal: 0 }),
    ];
    const text = lines(renderTable(rows, view({ selected: -1 }), 100, 4, color, NOW));
    expect(text[1]).toMatch(/ Z exit 3\s*$/);
    expect(text[2]).toMatch(/ Z SIG/);
    expect(text[3]).toMatch(/ exit 3\s*$/);
    expect(text[3]).not.toMatch(/Z exit/);
  });

  it('highlights rows first seen within the last 2 s, and the selected row', () => {
    const fresh = row({ pid: 7, firstSeenAt: NOW - NEW_ROW_MS + 100 });
    const old = row({ pid: 8, firstSeenAt: NOW - NEW_ROW_MS - 100 });
    const tagged = renderTable([fresh, old, row({ pid: 9 })], view({ selected: 2 }), 100, 4, color, NOW).split('\n');
    expect(tagged[1]).toContain('{green-fg}');
    expect(tagged[2]).not.toContain('{green-fg}');
    expect(tagged[3]).toContain('{cyan-bg}');
    const unfocused = renderTable([row()], view({ focused: false }), 100, 2, color, NOW).split('\n');
    expect(unfocused[1]).toContain('{underline}');
  });

  it('escapes hostile comm and args instead of interpreting them', () => {
    const evil = row({ comm: '\x1b[2J{bold}', label: '', args: ['sh', '-c', 'echo\nhi {red-bg}'] });
    const tagged = renderTable([evil], view({ selected: -1 }), 120, 2, color, NOW);
    expect(tagged).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/); // only the line separators remain
    expect(tagged).toContain('{open}bold{close}');
    expect(tagged).toContain('{open}red-bg{close}');
    const shown = lines(tagged)[1];
    expect(shown).toContain('\\x1b[2J{bold}');
    expect(shown).toContain('sh -c echo\\nhi {red-bg}');
  });

  it('uses no colour at all without colour, only attributes', () => {
    const rows = [row({ state: 'exited', exitCode: 1 }), row({ firstSeenAt: NOW }), row({ state: 'lost' })];
    const tagged = renderTable(rows, view(), 100, 4, mono, NOW);
    expect(tagged).not.toMatch(/-(fg|bg)\}/);
    expect(tagged).toContain('{inverse}');
  });

  it('indents rows by tree depth', () => {
    const rows = [row({ pid: 1, label: 'root' }), row({ pid: 2, label: 'kid' }), row({ pid: 3, label: 'grandkid' })];
    const depthOf = (r: ProcessRow) => r.pid - 1;
    const text = lines(renderTable(rows, view({ selected: -1, depthOf }), 160, 4, mono, NOW));
    expect(text[1]).toMatch(/ root /);
    expect(text[2]).toMatch(/ `-kid /);
    expect(text[3]).toMatch(/   `-grandkid /);
    const flat = lines(renderTable(rows, view({ selected: -1 }), 160, 4, mono, NOW)); // no depthOf: a flat view
    expect(flat[3]).toMatch(/ grandkid /);
    expect(flat[3]).not.toContain('`-');
  });

  it('says why the table is empty', () => {
    expect(lines(renderTable([], view({ emptyText: 'no processes matching python* yet' }), 80, 5, color, NOW))[1])
      .toContain('no processes matching python* yet');
  });
});

describe('sparklines', () => {
  it('maps values onto the ramp, newest on the right, zero as blank', () => {
    expect(sparkline([0, 1, 2, 4, 8], 5, ' ▁▂▃▄▅▆▇█')).toBe(' ▁▂▄█');
    expect(sparkline([5], 4, ' .:-=+*#@')).toBe('   @');
    expect(sparkline([], 3, ' ▁▂▃▄▅▆▇█')).toBe('   ');
    expect(sparkline([1, 2], 0, ' ▁')).toBe('');
  });

  it('squeezes a long window into the cells by maximum so a spike survives', () => {
    const values = Array<number>(120).fill(1);
    values[57] = 100;
    const s = sparkline(values, 20, ' ▁▂▃▄▅▆▇█');
    expect(s).toHaveLength(20);
    expect(s.split('█')).toHaveLength(2);
    expect(s.indexOf('█')).toBe(Math.floor((57 * 20) / 120));
  });

  it('renders all and traced rates with current and peak', () => {
    const data: Record<string, number[]> = {
      forks: [1, 2, 30], execs: [0, 0, 0], exits: [4, 4, 4], tracedForks: [0, 1, 0], tracedExecs: [0, 0, 2], tracedExits: [0, 0, 0],
    };
    const rates: RateSource = {
      series: (n: RateName) => data[n],
      stats: (n: RateName) => ({ current: data[n][data[n].length - 1], peak: Math.max(...data[n]), avg: 0 }),
    };
    const out = lines(renderSparks(rates, 80, 3, color));
    expect(out).toHaveLength(3);
    for (const l of out) expect(l).toHaveLength(80);
    expect(out[0]).toMatch(/^forks\/s .*30 pk +30│ traced .* 0 pk +1$/);
    expect(out[1]).toMatch(/^execs\/s .* 0 pk +0│ traced .* 2 pk +2$/);
    expect(lines(renderSparks(rates, 80, 2, mono))).toHaveLength(2);
  });
});

const base = { time: NOW, ppid: 10, tid: 0, uid: 0, start: 0, startedAt: NOW - 1000, cgroupId: '1' };

describe('event log pane', () => {
  const events: LifecycleEvent[] = [
    { ...base, type: 'fork', pid: 10, comm: 'python3', childPid: 11, childStart: 5 },
    { ...base, type: 'exec', pid: 11, comm: 'sh', filename: '/bin/sh', args: ['sh', '-c', 'true'], argsTruncated: false },
    { ...base, type: 'exit', pid: 11, comm: 'sh', exitCode: 3, signal: 0, coreDumped: false, durationMs: 1234, cpuMs: 0 },
    { ...base, type: 'exit', pid: 12, comm: 'worker', exitCode: 0, signal: 9, coreDumped: false, durationMs: 61_000, cpuMs: 0 },
    { ...base, type: 'exec', pid: 13, comm: '\x1b[2J{bold}', filename: 'x', args: ['a\nb'], argsTruncated: true },
  ];

  it('shows time, kind, child<-parent, comm and args or exit status, newest at the bottom', () => {
    const out = lines(renderLog(events, 0, 80, 6, false, color));
    expect(out).toHaveLength(6);
    expect(out[0]).toMatch(/Events 5/);
    expect(out[1]).toMatch(/^12:00:00\.000 FORK 11<-10 python3/);
    expect(out[2]).toMatch(/EXEC 11<-10 sh sh -c true/);
    expect(out[3]).toMatch(/EXIT 11<-10 sh exit 3 after 1\.2s/);
    expect(out[4]).toMatch(/EXIT 12<-10 worker SIGKILL after 1m01s/);
    expect(out[5]).toContain('EXEC 13<-10 \\x1b[2J{bold} a\\nb ...');
    for (const l of out) expect(l).toHaveLength(80);
  });

  it('says the exit status is unknown when the source cannot see it', () => {
    const ev: LifecycleEvent = { ...base, type: 'exit', pid: 5, comm: 'python3', exitCode: 0, signal: 0, coreDumped: false,
      durationMs: 500, cpuMs: 0, unknownStatus: true };
    expect(lines(renderLog([ev], 0, 80, 2, false, color))[1]).toMatch(/EXIT 5<-10 python3 exit \? after 500ms/);
  });

  it('shows a loss as a LOST line per stage, and a recovered exec as such', () => {
    const records: StreamRecord[] = [
      { type: 'lost', time: NOW, stage: 'kernel_ring', count: 1200, since: NOW - 1000, until: NOW },
      { type: 'lost', time: NOW, stage: 'addon_queue', count: 3, since: NOW - 1000, until: NOW },
      { type: 'lost', time: NOW, stage: 'traced_map', count: 2, since: NOW - 1000, until: NOW },
      { ...base, type: 'exec', pid: 20, comm: 'python3', filename: '/usr/bin/python3', args: ['python3', 'w.py'], argsTruncated: false,
        recovered: true },
    ];
    const tagged = renderLog(records, 0, 100, 5, false, color);
    const out = lines(tagged);
    expect(out[0]).toMatch(/Events 4/);
    expect(out[1]).toMatch(/^12:00:00\.000 LOST 1200 events \(kernel ring buffer full\): healing from \/proc/);
    expect(out[2]).toMatch(/LOST 3 events \(reader queue full\): healing from \/proc/);
    expect(out[3]).toMatch(/LOST 2 processes not followed \(traced set full\): healing from \/proc/);
    expect(out[4]).toMatch(/EXEC 20<-10 python3 python3 w\.py \(recovered from \/proc\)/);
    expect(tagged.split('\n')[1]).toMatch(/\{red-bg\}/); // the LOST word stands out
    for (const l of out) expect(l).toHaveLength(100);
  });

  it('says where an inferred exit came from', () => {
    const exit = (o: Partial<Extract<LifecycleEvent, { type: 'exit' }>>): LifecycleEvent => ({
      ...base, type: 'exit', pid: 5, comm: 'python3', exitCode: 0, signal: 0, coreDumped: false, durationMs: 500, cpuMs: 0, ...o,
    });
    const out = lines(renderLog([
      exit({ inferred: 'zombie', exitCode: 3 }),
      exit({ inferred: 'zombie', signal: 9 }),
      exit({ inferred: 'vanished' }),
      exit({ inferred: 'zombie', unknownStatus: true }),
    ], 0, 80, 5, false, color));
    expect(out[1]).toMatch(/EXIT 5<-10 python3 zombie, exit 3 \(from \/proc\) after 500ms/);
    expect(out[2]).toMatch(/EXIT 5<-10 python3 zombie, SIGKILL \(from \/proc\) after 500ms/);
    expect(out[3]).toMatch(/EXIT 5<-10 python3 exit lost after 500ms/);
    expect(out[4]).toMatch(/EXIT 5<-10 python3 exit \? after 500ms/);
  });

  it('scrolls back from the newest and keeps only the window', () => {
    const out = lines(renderLog(events, 2, 80, 3, true, color));
    expect(out).toHaveLength(3);
    expect(out[0]).toMatch(/2 newer below/);
    expect(out[1]).toMatch(/EXEC 11<-10/);
    expect(out[2]).toMatch(/EXIT 11<-10/);
  });
});

const info = (over: Partial<StatusInfo> = {}): StatusInfo => ({
  sourceKind: 'bpf', filter: { patterns: ['python*', 'uvicorn*'], followChildren: true },
  counts: { running: 12, exited: 3, lost: 0, total: 15 }, eventsPerSec: 1500,
  loss: { kernel_ring: 0, addon_queue: 0, traced_map: 0 }, recovered: 0, fault: null, now: NOW, ...over,
});

describe('status bar', () => {
  it('shows source, filter, counts, rate, loss and the clock', () => {
    const [top, bottom] = lines(renderStatus(info(), initialViewState(), 100, color));
    expect(top).toHaveLength(100);
    expect(bottom).toHaveLength(100);
    expect(top).toMatch(/^ bpf: python\*,uvicorn\* \+children\s+12 running\s+3 exited\s+1\.5k ev\/s\s+lost 0\s*$/);
    expect(top).not.toMatch(/recovered/);
    expect(bottom).toMatch(/sort started▼/);
    expect(bottom).toMatch(/ 12:00:00 $/);
  });

  it('highlights loss only when non-zero, only the stages that lost, with the rows recovered next to it', () => {
    expect(renderStatus(info(), initialViewState(), 100, color)).not.toContain('{red-bg}');
    for (const [loss, shown] of [
      [{ kernel_ring: 7, addon_queue: 0, traced_map: 0 }, 'ring 7'],
      [{ kernel_ring: 0, addon_queue: 1500, traced_map: 0 }, 'queue 1.5k'],
      [{ kernel_ring: 0, addon_queue: 0, traced_map: 2 }, 'map 2'],
    ] as const) {
      const tagged = renderStatus(info({ loss, recovered: 3 }), initialViewState(), 120, color);
      expect(tagged).toContain(`{red-bg} LOST ${shown} `);
      expect(plain(tagged).split('\n')[0]).toMatch(new RegExp(` LOST ${shown} {2}3 recovered\\s*$`));
    }
  });

  it('shows a fault of the source as an error on the second line', () => {
    const fault = 'the kernel event reader failed (errno 5): events are no longer received';
    const tagged = renderStatus(info({ fault }), initialViewState(), 200, color);
    const [top, bottom] = lines(tagged);
    expect(top).not.toContain(fault);
    expect(bottom).toContain(fault);
    expect(tagged.split('\n')[1]).toMatch(/\{red-fg\}[^{]*the kernel event reader failed/);
    expect(lines(renderStatus(info(), initialViewState(), 200, color))[1]).not.toMatch(/failed/);
  });

  it('shows PAUSED, search, messages and the source caveat', () => {
    const s = { ...initialViewState(), paused: true, query: 'uvi', message: 'saved /tmp/a.json (3 rows)' };
    const text = plain(renderStatus(info({ caveat: 'polling /proc' }), s, 160, color));
    expect(text).toMatch(/PAUSED/);
    expect(text).toMatch(/search "uvi"/);
    expect(text).toMatch(/saved \/tmp\/a\.json \(3 rows\)/);
    expect(text).toMatch(/polling \/proc/);
    expect(renderStatus(info(), s, 160, color)).toContain('{yellow-bg}');
    expect(plain(renderStatus(info({ filter: { patterns: ['*'], followChildren: false } }), initialViewState(), 100, color)))
      .toMatch(/bpf: \* -children/);
  });
});

describe('prompt, help, details, frame', () => {
  it('prompt shows the text with a cursor and the error, within the width', () => {
    const p = renderPrompt({ kind: 'filter', text: 'py*x', error: '"py*x": "*" must be the last character' }, 80, color);
    const shown = plain(p);
    expect(shown).toHaveLength(80);
    expect(shown).toMatch(/Filter \(comm patterns\)> py\*x {3}"py\*x": "\*" must/); // text, cursor cell, error
    expect(p).toContain('{red-fg}');
    const long = plain(renderPrompt({ kind: 'snapshot', text: 'x'.repeat(200) + 'END', error: '' }, 60, color));
    expect(long).toHaveLength(60);
    expect(long).toContain('END ');
  });

  it('hint and help are generated from the key table', () => {
    const hint = plain(renderHint(80, color));
    expect(hint).toHaveLength(80);
    expect(hint).toMatch(/^ q quit  \? help  \/ filter /);
    expect(plain(renderHint(20, color))).toBe(' q quit  ? help     '); // whole items only, never a cut word
    const help = helpBody().map((segs) => segs.map((s) => s.text).join('')).join('\n');
    expect(help).toMatch(/F6/);
    expect(help).toMatch(/Ctrl-C/);
  });

  it('details list every argument sanitized and wrapped, and the parent chain without the row itself', () => {
    const parent = row({ pid: 1, key: '1:1', comm: 'uvicorn', label: 'uvicorn app:api master' });
    const self = row({ pid: 100, ppid: 1, args: ['python3', '-c', 'x'.repeat(100) + '\x1b[2J'], seeded: true });
    const body = detailsBody(self, [self, parent], 50, NOW).map((segs) => segs.map((s) => s.text).join(''));
    const text = body.join('\n');
    expect(text).toContain('[2]');
    expect(text).toContain('\\x1b[2J');
    expect(Math.max(...body.map((l) => l.length))).toBeLessThanOrEqual(50);
    expect(text).toMatch(/Seen by\s+seeded: already running, read from \/proc/);
    expect(text).toMatch(/Unit\s+app\.service/);
    expect(text).toMatch(/Cgroup\s+\/system\.slice\/app\.service/);
    const evil = detailsBody(row({ cgroup: '/\x1b[2Jx', unit: '\x1b[2Jx' }), [], 60, NOW).map((l) => l.map((g) => g.text).join('')).join('\n');
    expect(evil).toMatch(/Unit\s+\\x1b\[2Jx/);
    expect(evil).not.toContain('\x1b');
    expect(detailsBody(row({ cgroup: '/', unit: '' }), [], 60, NOW).map((l) => l.map((g) => g.text).join('')).join('\n'))
      .toMatch(/Unit\s+\(root cgroup\)/);
    expect(text).not.toMatch(/Exit from/); // still running
    expect(text).toMatch(/1 +uvicorn  uvicorn app:api master/);
    expect(text.match(/^\s+100 /m)).toBeNull();
    expect(detailsBody(undefined, [], 40, NOW)[0][0].text).toMatch(/no longer/);
  });

  it('details say how the row and its end were seen', () => {
    const text = (r: ProcessRow) => detailsBody(r, [r], 100, NOW).map((segs) => segs.map((seg) => seg.text).join('')).join('\n');
    expect(text(row())).toMatch(/Seen by\s+its exec\/fork event/);
    expect(text(row({ recovered: true }))).toMatch(/Seen by\s+recovered: its events were lost, found in \/proc/);
    const zombie = text(row({ state: 'exited', exitCode: 3, signal: 0, exitFromProc: true, exitedAt: NOW, lifetimeMs: 1000 }));
    expect(zombie).toMatch(/Status\s+zombie, exit 3 \(from \/proc\) after 1\.0s/);
    expect(zombie).toMatch(/Exit from\s+\/proc: an unreaped zombie, status from stat field 52/);
    expect(text(row({ state: 'exited', exitCode: 0, signal: 0, exitedAt: NOW }))).toMatch(/Exit from\s+the kernel/);
    const lost = text(row({ state: 'lost', exitedAt: NOW }));
    expect(lost).toMatch(/Status\s+lost \(gone from \/proc, exit not seen\)/);
    expect(lost).toMatch(/Exit from\s+nobody: gone, its exit was not observed/);
  });

  it('frame draws exactly width x height with scrolling', () => {
    const body = Array.from({ length: 30 }, (_, i) => [{ text: `line ${i}` }]);
    const out = lines(frame('Title', body, 30, 10, 5, mono));
    expect(out).toHaveLength(10);
    for (const l of out) expect(l).toHaveLength(30);
    expect(out[0]).toMatch(/^\+- Title -+\+$/);
    expect(out[1]).toBe('| ' + 'line 5'.padEnd(26) + ' |');
    expect(out[9]).toContain('6-13/30');
  });

  it('line() cleans every segment and never exceeds the width', () => {
    expect(plain(line([{ text: 'ab\x1b' }, { text: 'cdef', style: 'key' }], 6, color))).toBe('ab\\x1b');
    expect(plain(line([{ text: 'ab' }], 5, color))).toBe('ab   ');
  });
});
