// The real lifetop UI in a real terminal (tmux), fed by the replay fixture: what a user sees and types.
// Expectations are derived from the fixture file, so they hold when the recording is replaced.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Pane, tableRows, tmuxWorkspace } from './tmux';

const ROOT = path.resolve(__dirname, '..', '..');
const FIXTURE = path.join('test', 'fixtures', 'session.ndjson');

interface Rec {
  type: string; pid: number; ppid: number; comm: string; args?: string[]; seeded?: boolean;
}
const records: Rec[] = fs.readFileSync(path.join(ROOT, FIXTURE), 'utf8').split('\n').filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as Rec);
const execPids = [...new Set(records.filter((r) => r.type === 'exec').map((r) => r.pid))];

let seq = 0;
const ws = tmuxWorkspace('lifetop-tui-');

function launch(opts: { width?: number; height?: number; env?: string; speed?: string; before?: string } = {}): Pane {
  const env = opts.env ?? 'LANG=C.UTF-8';
  const cmd = `cd ${ROOT} && ${opts.before ?? ''} env ${env} node bin/lifetop --replay ${FIXTURE} `
    + `--replay-speed ${opts.speed ?? 'max'}; echo "EXITED $?"; sleep 600`; // tmux may drop the output of a dying pane
  return ws.keep(Pane.start(`ui-${process.pid}-${++seq}`, cmd, opts.width ?? 80, opts.height ?? 24));
}

const pidsOf = (rows: string[]): number[] => rows.map((r) => Number(/^\s*(\d+)/.exec(r)![1]));
const column = (rows: string[], n: number): number[] => rows.map((r) => Number(r.trim().split(/\s+/)[n]));
const allExecsShown = (s: string): boolean => execPids.every((p) => pidsOf(tableRows(s)).includes(p));
const isSorted = (xs: number[], desc: boolean): boolean => xs.every((x, i) => i === 0 || (desc ? xs[i - 1] >= x : xs[i - 1] <= x));

/** Control characters the way the UI must show them: visible `\xHH` / `\n` escapes. */
const visible = (s: string): string => s.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) =>
  c === '\n' ? '\\n' : c === '\t' ? '\\t' : c === '\r' ? '\\r' : '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0'));

beforeAll(() => {
  // Every "all the fixture's rows" wait below is vacuous without execs in the fixture.
  if (execPids.length === 0) throw new Error(`${FIXTURE} has no exec records`);
});

describe('lifetop UI in tmux', () => {
  it('shows the fixture processes in the table and their EXEC lines in the log', async () => {
    const p = launch({ width: 160, height: 50 });
    const screen = await p.waitFor(allExecsShown, 'every exec pid of the fixture in the table');
    expect(screen).toMatch(/^ replay: /m);
    expect(screen).toMatch(/forks\/s/);
    // The log pane (10 lines at this size) shows the newest events: the execs among the last 8 are in view.
    const logged = records.filter((r) => !(r.type === 'exec' && r.seeded)).slice(-8).filter((r) => r.type === 'exec');
    expect(logged.length, 'the end of the fixture has execs').toBeGreaterThan(0);
    for (const r of logged) expect(screen).toContain(`EXEC ${r.pid}<-${r.ppid}`);
    expect(screen).toMatch(/ q quit /);
  });

  it('changes the visible order with the sort keys', async () => {
    const p = launch({ width: 160, height: 50 });
    await p.waitFor(allExecsShown, 'the fixture rows');
    p.send('F6', 'Home', 'Enter');
    let screen = await p.waitFor(/sort pid▼/, 'sort by pid, descending');
    const desc = pidsOf(tableRows(screen));
    expect(isSorted(desc, true)).toBe(true);
    p.send('r');
    screen = await p.waitFor(/sort pid▲/, 'reversed sort');
    const asc = pidsOf(tableRows(screen));
    expect(isSorted(asc, false)).toBe(true);
    expect(asc).toEqual(desc.slice().reverse().sort((a, b) => a - b));
    expect(asc).not.toEqual(desc);
    p.send('>');
    screen = await p.waitFor(/sort ppid▲/, 'next sort column');
    expect(isSorted(column(tableRows(screen), 1), false)).toBe(true);
  });

  it('narrows the rows live with the \\ search and restores them on Escape', async () => {
    const p = launch({ width: 160, height: 50 });
    const before = tableRows(await p.waitFor(allExecsShown, 'the fixture rows')).length;
    p.send('\\');
    p.type('uvicorn');
    const screen = await p.waitFor((s) => /search "uvicorn"/.test(s) && tableRows(s).length < before, 'fewer rows');
    const rows = tableRows(screen);
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r.toLowerCase()).toContain('uvicorn');
    p.send('Escape');
    await p.waitFor((s) => !/search "/.test(s) && tableRows(s).length === before, 'all rows back');
  });

  it('freezes the table while paused, keeps collecting, and resumes', async () => {
    const p = launch({ width: 160, height: 50, speed: 'realtime' });
    await p.waitFor((s) => tableRows(s).length > 0, 'first rows');
    p.send('Space');
    let screen = await p.waitFor(/PAUSED/, 'PAUSED in the status bar');
    const frozen = tableRows(screen);
    const counts = /\d+ running {2}\d+ exited/.exec(screen)![0];
    screen = await p.waitFor((s) => !s.includes(counts), 'the status counts to move while paused', 20_000);
    expect(tableRows(screen)).toEqual(frozen);
    p.send('p');
    await p.waitFor((s) => !/PAUSED/.test(s) && tableRows(s).join('\n') !== frozen.join('\n'), 'live rows again');
  });

  it('writes a snapshot with w whose rows are the rows on screen, and keeps running', async () => {
    const p = launch({ width: 160, height: 50 });
    const shown = tableRows(await p.waitFor(allExecsShown, 'the fixture rows'));
    p.send('w');
    await p.waitFor(/Save table to> lifetop-\d{8}-\d{6}\.json/, 'the pre-filled snapshot prompt');
    const target = path.join(ws.dir, 'snap.json');
    p.send('C-u');
    p.type(target);
    p.send('Enter');
    const screen = await p.waitFor(/saved \S+ \(\d+ rows\)/, 'the saved message');
    expect(screen).toContain(`saved ${target} (${shown.length} rows)`);
    const snap = JSON.parse(fs.readFileSync(target, 'utf8')) as { processes: { pid: number; state: string }[] };
    expect(shown.length).toBeGreaterThan(0);
    expect(snap.processes.map((x) => x.pid)).toEqual(pidsOf(shown));
    // Both states are on screen, so the state column is checked in both directions.
    expect(new Set(snap.processes.map((x) => x.state))).toEqual(new Set(['running', 'exited']));
    snap.processes.forEach((x, i) => expect(/ run\s*$/.test(shown[i])).toBe(x.state === 'running'));
    expect(tableRows(screen)).toEqual(shown);
    expect(screen).not.toMatch(/EXITED/);
  });

  it('shows hostile comm and args escaped, without clearing the screen or applying tags', async () => {
    const hostile = records.find((r) => r.type === 'exec' && /[\x00-\x1f\x7f-\x9f]/.test(r.comm));
    expect(hostile, 'the fixture has an exec with control characters in comm').toBeDefined();
    const p = launch({ width: 160, height: 50 });
    const screen = await p.waitFor((s) => s.includes(visible(hostile!.comm)), 'the escaped comm');
    const row = tableRows(screen).find((r) => pidsOf([r])[0] === hostile!.pid)!;
    expect(row).toContain(visible(hostile!.comm));
    const logLine = `EXEC ${hostile!.pid}<-${hostile!.ppid} ${visible(hostile!.comm)}`;
    p.send('Tab'); // the log has focus now: scroll back until the event is in view
    for (let i = 0; i < records.length && !p.screen().includes(logLine); i++) p.send('Up');
    expect(p.screen()).toContain(logLine);
    const arg = hostile!.args?.find((a) => /\n/.test(a));
    expect(arg, 'the hostile exec has an argument with a newline').toBeDefined();
    expect(screen).toContain(visible(arg!).slice(0, 20));
    expect(screen).toMatch(/^ replay: .* running/m); // the status bar survived the \x1b[2J
    expect(screen).toMatch(/^\s+PID\s+PPID/m);
    expect(hostile!.comm, 'the hostile comm holds a blessed tag').toContain('{bold}');
    expect(row).toContain('{bold}'); // shown as text, not applied
  });

  it('adapts to resizing 80x24 -> 60x15 -> 80x24 without dying', async () => {
    const p = launch();
    await p.waitFor((s) => /forks\/s/.test(s) && tableRows(s).length > 0, 'full layout at 80x24');
    p.resize(60, 15);
    let screen = await p.waitFor((s) => !/forks\/s/.test(s) && /^\s+PID /m.test(s) && / q quit /.test(s), 'small layout');
    expect(screen.split('\n').every((l) => l.length <= 60)).toBe(true);
    expect(tableRows(screen).length).toBeGreaterThan(0);
    p.resize(80, 24);
    screen = await p.waitFor((s) => /forks\/s/.test(s) && /Events/.test(s), 'full layout again');
    expect(tableRows(screen).length).toBeGreaterThan(0);
    expect(screen).not.toMatch(/EXITED/);
  });

  it('quits with q, exit code 0, and restores the terminal', async () => {
    const p = launch({ before: "printf 'BEFORE-LIFETOP\\n';" });
    await p.waitFor((s) => tableRows(s).length > 0, 'the UI');
    expect(p.format('#{alternate_on}')).toBe('1');
    p.send('q');
    const screen = await p.waitFor(/EXITED \d+/, 'lifetop to exit');
    expect(screen).toMatch(/EXITED 0/);
    expect(screen).toContain('BEFORE-LIFETOP');
    expect(screen).not.toMatch(/^\s+PID\s/m);
    expect(p.format('#{alternate_on} #{cursor_flag} #{keypad_flag}')).toBe('0 1 0');
  });

  for (const term of ['screen-256color', 'tmux-256color']) {
    it(`runs under TERM=${term} with no terminfo error on screen`, async () => {
      const p = launch({ env: `LANG=C.UTF-8 TERM=${term}` });
      const screen = await p.waitFor((s) => tableRows(s).length > 0, 'the UI');
      const noise = /error|terminfo|termcap|stack|tput|\bat \w+ \(/i;
      expect(screen).not.toMatch(noise);
      expect(screen).toMatch(/── Events/); // box drawing as UTF-8, not ACS letters
      p.send('q');
      const after = await p.waitFor(/EXITED \d+/, 'lifetop to exit');
      expect(after).toMatch(/EXITED 0/);
      expect(after).not.toMatch(noise);
    });
  }
});
