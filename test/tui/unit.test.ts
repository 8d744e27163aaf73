// Units (cgroup -> short unit name) as a user sees them in a real terminal (tmux), no root needed: a
// recording written here with formatEvent, replayed at max speed. The UNIT column (a systemd service, a
// docker container, the root cgroup, a hostile name shown as escaped text and never reaching the terminal
// raw), the `u` prompt that filters rows by unit (prefix, list, clear, invalid pattern), and --unit.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { unitOf } from '../../src/core/cgroup';
import { formatEvent, formatHeader } from '../../src/core/ndjson';
import type { ExecEvent } from '../../src/core/types';
import { exec, BOOT_MS } from '../support/events';
import { Pane, replayCommand, rowPid, startCaptured, tableRows, tmuxWorkspace } from './tmux';

const WIDTH = 200; // wide enough for the UNIT column (the first one dropped on narrow terminals)
const HEIGHT = 50;

const CONTAINER = '0123456789abcdef'.repeat(4); // 64 hex
/** A unit name with ESC, a clear-screen sequence and blessed tag braces; escaped it fits UNIT's 14 cells. */
const HOSTILE = 'e\x1b[2J{b}';

const P = { nginx: 6001, docker: 6002, root: 6003, hostile: 6004 } as const;
const ALL_PIDS = Object.values(P) as number[];

const CGROUP: Record<number, string> = {
  [P.nginx]: '/system.slice/nginx.service',
  [P.docker]: `/system.slice/docker-${CONTAINER}.scope`,
  [P.root]: '/',
  [P.hostile]: `/hostile/${HOSTILE}`,
};
const UNIT: Record<number, string> = {
  [P.nginx]: 'nginx.service',
  [P.docker]: '0123456789ab',
  [P.root]: '',
  [P.hostile]: HOSTILE,
};

/** Control characters the way the UI must show them: visible `\xHH` escapes. */
const visible = (s: string): string => s.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0'));

const execs: ExecEvent[] = ALL_PIDS.map((pid, i) => ({
  ...exec(pid, 100 + i / 10, { args: ['python3', `svc_${pid}.py`] }),
  cgroup: CGROUP[pid],
  unit: UNIT[pid],
}));

let seq = 0;
const ws = tmuxWorkspace('lifetop-unit-');
let recording = '';

/** lifetop on the recording (see replayCommand for `gate`). */
function launch(extra = '', gate?: string): Pane {
  return ws.keep(Pane.start(`unit-${process.pid}-${++seq}`, replayCommand(recording, extra, gate), WIDTH, HEIGHT));
}

const pidOf = rowPid;
const pidsOf = (screen: string): number[] => tableRows(screen).map(pidOf).sort();
const sorted = (pids: number[]): number[] => [...pids].sort();

/** The UNIT cell of every visible row, by the header's column position (14 wide). */
function unitCells(screen: string): Record<number, string> {
  const header = screen.split('\n').find((l) => /^\s*PID\b/.test(l)) ?? '';
  const at = header.search(/\bUNIT\b/);
  const out: Record<number, string> = {};
  for (const r of tableRows(screen)) out[pidOf(r)] = at < 0 ? '<no UNIT column>' : r.slice(at, at + 14).trim();
  return out;
}

const allRowsShown = (s: string): boolean => sorted(ALL_PIDS).join() === pidsOf(s).join() && /\b4 running {2}0 exited\b/.test(s);
const promptOpen = (s: string): boolean => / Units \(patterns, empty: all\)> /.test(s);
/** The status bar's second line (the one with the sort). */
const statusLine = (s: string): string => s.split('\n').find((l) => /^ +sort \S/.test(l)) ?? '';

/** Opens the unit prompt, clears its pre-filled text, types `text` and submits. */
async function setUnits(p: Pane, text: string): Promise<void> {
  p.send('u');
  await p.waitFor(promptOpen, 'the unit prompt');
  p.send('C-u');
  await p.waitFor((s) => / Units \(patterns, empty: all\)> {4}Enter ok/.test(s), 'the cleared prompt');
  if (text) p.type(text);
  p.send('Enter');
}

beforeAll(() => {
  // The units in the recording are the ones lifetop itself derives from these cgroups.
  for (const pid of ALL_PIDS) expect(unitOf(CGROUP[pid]), `unit of ${CGROUP[pid]}`).toBe(UNIT[pid]);
  recording = path.join(ws.dir, 'units.ndjson');
  const header = formatHeader({ type: 'header', version: '0.3', source: 'bpf', filter: ['*'], followChildren: true, bootTime: BOOT_MS });
  fs.writeFileSync(recording, [header, ...execs.map(formatEvent)].join('\n') + '\n');
  // The recording itself carries the fields this test is about (a broken writer must not pass silently).
  const text = fs.readFileSync(recording, 'utf8');
  expect(text).toContain('"cgroup":"/system.slice/nginx.service","unit":"nginx.service"');
  expect(text).toContain(`"cgroup":"/system.slice/docker-${CONTAINER}.scope","unit":"0123456789ab"`);
  expect(text).toContain('"cgroup":"/","unit":""');
  expect(text).toContain('"unit":"e\\u001b[2J{b}"');
  expect(text).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/); // one escaped line per record, nothing raw
});

describe('units in the lifetop UI (tmux, replay)', () => {
  it('shows each unit in the UNIT column, the hostile one escaped and never raw in the output', async () => {
    const { pane: p, raw } = startCaptured((gate) => launch('', gate), ws.dir); // every byte lifetop writes
    const screen = await p.waitFor(allRowsShown, 'all four rows');

    expect(unitCells(screen)).toEqual({
      [P.nginx]: 'nginx.service',
      [P.docker]: '0123456789ab',
      [P.root]: '',
      [P.hostile]: 'e\\x1b[2J{b}',
    });
    expect(unitCells(screen)[P.hostile]).toBe(visible(HOSTILE));

    // Nothing of the hostile unit reached the terminal as control bytes: not on the screen (tmux would
    // have acted on it, clearing it), and not in the raw output stream either.
    expect(screen).not.toContain('\x1b');
    expect(screen).toMatch(/^ replay: .* running/m); // the status bar is intact
    const bytes = fs.readFileSync(raw, 'latin1');
    expect(bytes.length, 'pipe-pane saw the output').toBeGreaterThan(1000);
    expect(bytes).not.toContain('e\x1b[2J');
    expect(bytes).not.toContain('\x1b[2J{b}');
    expect(bytes).not.toContain('{open}'); // blessed turned the escaped braces back into braces
  });

  it('filters rows by unit with the u prompt: prefix, list, invalid pattern, clear', async () => {
    const p = launch();
    await p.waitFor(allRowsShown, 'all four rows');

    // A prefix: only nginx.
    await setUnits(p, 'nginx*');
    let screen = await p.waitFor((s) => !promptOpen(s) && pidsOf(s).length === 1, 'one row after nginx*');
    expect(pidsOf(screen)).toEqual([P.nginx]);
    expect(unitCells(screen)).toEqual({ [P.nginx]: 'nginx.service' });
    expect(statusLine(screen)).toMatch(/^ +sort started▼ {2}units nginx\* /);

    // `docker*` names no unit: a container's unit is its 12-hex id, not "docker-...". So this list still
    // shows only nginx.
    await setUnits(p, 'docker*,nginx.service');
    screen = await p.waitFor((s) => !promptOpen(s) && /units docker\*,nginx\.service/.test(s), 'the docker*,nginx.service filter');
    expect(pidsOf(screen)).toEqual([P.nginx]);

    // The container by its id (a prefix of it) and nginx by exact name: two rows.
    await setUnits(p, '0123*,nginx.service');
    screen = await p.waitFor((s) => !promptOpen(s) && pidsOf(s).length === 2, 'two rows');
    expect(pidsOf(screen)).toEqual(sorted([P.nginx, P.docker]));
    expect(unitCells(screen)).toEqual({ [P.nginx]: 'nginx.service', [P.docker]: '0123456789ab' });
    expect(statusLine(screen)).toMatch(/ {2}units 0123\*,nginx\.service /);

    // The prompt opens with the current filter.
    p.send('u');
    screen = await p.waitFor(promptOpen, 'the unit prompt');
    expect(screen).toMatch(/ Units \(patterns, empty: all\)> 0123\*,nginx\.service {3}Enter ok/);

    // An invalid pattern: the error in the prompt, which stays open; the filter is unchanged.
    p.send('C-u');
    p.type('a*b');
    p.send('Enter');
    screen = await p.waitFor((s) => promptOpen(s) && /"\*" must be the last character/.test(s), 'the error in the prompt');
    expect(screen).toMatch(/ Units \(patterns, empty: all\)> a\*b {3}"a\*b": "\*" must be the last character/);
    expect(pidsOf(screen)).toEqual(sorted([P.nginx, P.docker]));
    p.send('Escape');
    screen = await p.waitFor((s) => !promptOpen(s), 'the prompt to close');
    expect(pidsOf(screen)).toEqual(sorted([P.nginx, P.docker]));
    p.send('u');
    screen = await p.waitFor(promptOpen, 'the unit prompt again');
    expect(screen).toMatch(/ Units \(patterns, empty: all\)> 0123\*,nginx\.service {3}Enter ok/);
    p.send('Escape');
    await p.waitFor((s) => !promptOpen(s), 'the prompt to close');

    // Empty: every unit again.
    await setUnits(p, '');
    screen = await p.waitFor((s) => !promptOpen(s) && allRowsShown(s), 'all rows back');
    expect(pidsOf(screen)).toEqual(sorted(ALL_PIDS));
    expect(statusLine(screen)).toMatch(/ {2}all units /);
  });

  it('starts with only the matching rows with --unit', async () => {
    const p = launch('--unit nginx.service');
    const screen = await p.waitFor(
      (s) => /^ replay: /m.test(s) && pidsOf(s).length === 1 && !/\bEXITED\b/.test(s),
      'one row with --unit',
    );
    expect(pidsOf(screen)).toEqual([P.nginx]);
    expect(unitCells(screen)).toEqual({ [P.nginx]: 'nginx.service' });
    // The unit filter is in the prompt the u key opens.
    p.send('u');
    const prompt = await p.waitFor(promptOpen, 'the unit prompt');
    expect(prompt).toMatch(/ Units \(patterns, empty: all\)> nginx\.service {3}Enter ok/);
  });
});
