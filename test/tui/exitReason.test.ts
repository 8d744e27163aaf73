// Exit reasons as a user sees them in a real terminal (tmux), no root needed: a recording written here with
// formatEvent, replayed at max speed. The STATE column's short form, the event log's and the details'
// long form, a hostile sender comm shown as escaped text (never reaching the terminal raw), search by
// reason, and the STATE sort order.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatEvent, formatHeader } from '../../src/core/ndjson';
import type { ExecEvent, ExitEvent } from '../../src/core/types';
import { exec, exit, BOOT_MS } from '../support/events';
import { Pane, replayCommand, rowPid, startCaptured, tableRows, tmuxWorkspace } from './tmux';

const WIDTH = 160;
const HEIGHT = 50;

/** The sender's comm: ESC, a colour sequence, BEL and blessed tag braces. */
const HOSTILE = 'k\x1b[31m\x07ill{x}';
const SENDER = { pid: 4242, comm: HOSTILE, uid: 1000, kernel: false };
const KERNEL = { pid: 0, comm: '', uid: 0, kernel: true };

// One process per way of ending, plus one still running. Pids are distinct and appear nowhere else.
const P = { term: 5001, segv: 5002, oom: 5003, notFound: 5004, ok: 5005, running: 5006 } as const;
const OOM_ARG = '--ballast=412m'; // unique to the OOM row: the search that selects it
const SHELL_PID = 4900;

const execs: ExecEvent[] = [
  exec(P.running, 100.0, { args: ['python3', 'server.py'] }),
  exec(P.term, 100.1, { args: ['python3', 'worker_term.py'] }),
  exec(P.segv, 100.2, { comm: 'crasher', filename: '/opt/crasher', args: ['/opt/crasher', '--deref-null'] }),
  exec(P.oom, 100.3, { args: ['python3', 'hog_memory.py', OOM_ARG] }),
  exec(P.notFound, 100.4, { ppid: SHELL_PID, comm: 'sh', filename: '/bin/sh', args: ['sh', '-c', 'no_such_command'] }),
  exec(P.ok, 100.5, { comm: 'true', filename: '/bin/true', args: ['/bin/true'] }),
];
const exits: ExitEvent[] = [
  exit(P.term, 100.1, { endSec: 101.0, signal: 15, killedBy: SENDER }),
  exit(P.segv, 100.2, { comm: 'crasher', endSec: 101.1, signal: 11, core: true, killedBy: KERNEL }),
  exit(P.oom, 100.3, { endSec: 101.2, signal: 9, killedBy: KERNEL, oomRssKb: 421888 }),
  exit(P.notFound, 100.4, { ppid: SHELL_PID, comm: 'sh', endSec: 101.3, code: 127 }),
  exit(P.ok, 100.5, { comm: 'true', endSec: 101.4, code: 0 }),
];
const ALL_PIDS = Object.values(P) as number[];

/** What the STATE column (10 cells) shows for each pid. */
const STATE: Record<number, string> = {
  [P.term]: 'SIGTERM', [P.segv]: 'SEGV core', [P.oom]: 'OOM', [P.notFound]: 'exit 127', [P.ok]: 'exit 0', [P.running]: 'run',
};

/** Control characters the way the UI must show them: visible `\xHH` escapes. */
const visible = (s: string): string => s.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0'));

let seq = 0;
const ws = tmuxWorkspace('lifetop-exit-reason-');
let recording = '';

/** lifetop on the recording (see replayCommand for `gate`). */
function launch(gate?: string): Pane {
  return ws.keep(Pane.start(`exit-reason-${process.pid}-${++seq}`, replayCommand(recording, '', gate), WIDTH, HEIGHT));
}

const pidOf = rowPid;
const pidsOf = (screen: string): number[] => tableRows(screen).map(pidOf);

/** The STATE cell of every visible row, by the header's column position (the last column, 10 wide). */
function stateCells(screen: string): { pid: number; state: string }[] {
  const header = screen.split('\n').find((l) => /^\s*PID\b/.test(l)) ?? '';
  const at = header.search(/\bSTATE/);
  return tableRows(screen).map((r) => ({ pid: pidOf(r), state: at < 0 ? '' : r.slice(at, at + 10).trim() }));
}

const allRowsShown = (s: string): boolean => ALL_PIDS.every((p) => pidsOf(s).includes(p)) && /\b1 running {2}5 exited\b/.test(s);

/** The log line of an exit: `EXIT pid<-ppid comm <long reason> after ...`. */
function exitLine(ev: ExitEvent, reason: string): string {
  return `EXIT ${ev.pid}<-${ev.ppid} ${visible(ev.comm)} ${reason} after `;
}
const exitOf = (pid: number): ExitEvent => exits.find((e) => e.pid === pid)!;

beforeAll(() => {
  recording = path.join(ws.dir, 'reasons.ndjson');
  const header = formatHeader({ type: 'header', version: '0.2', source: 'bpf', filter: ['*'], followChildren: true, bootTime: BOOT_MS });
  const events = [...execs, ...exits].sort((a, b) => a.time - b.time);
  fs.writeFileSync(recording, [header, ...events.map(formatEvent)].join('\n') + '\n');
  // The recording itself carries the fields this test is about (a broken writer must not pass silently).
  const text = fs.readFileSync(recording, 'utf8');
  expect(text).toContain('"killed_by":{"pid":4242,"comm":"k\\u001b[31m\\u0007ill{x}","uid":1000,"kernel":false}');
  expect(text).toContain('"oom_rss_kb":421888');
  expect(text).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/); // one escaped line per record, nothing raw
});

describe('exit reasons in the lifetop UI (tmux, replay)', () => {
  it('shows the short form in STATE and the long form in the log, the hostile sender escaped', async () => {
    const { pane: p, raw } = startCaptured(launch, ws.dir); // every byte lifetop writes
    const screen = await p.waitFor(
      (s) => allRowsShown(s) && s.includes(exitLine(exitOf(P.ok), 'exit 0')),
      'all six rows and the last exit in the log',
    );

    // STATE column, row by row.
    const cells = stateCells(screen);
    expect(cells.map((c) => c.pid).sort()).toEqual([...ALL_PIDS].sort());
    for (const c of cells) expect(c.state, `STATE of ${c.pid}`).toBe(STATE[c.pid]);

    // The event log: the long form of each end.
    expect(screen).toContain(exitLine(exitOf(P.term), 'SIGTERM by k\\x1b[31m\\x07ill{x}[4242] uid 1000'));
    expect(screen).toContain(exitLine(exitOf(P.term), `SIGTERM by ${visible(HOSTILE)}[4242] uid 1000`));
    expect(screen).toContain(exitLine(exitOf(P.segv), 'SIGSEGV (fault), core dumped'));
    expect(screen).toContain(exitLine(exitOf(P.oom), 'OOM-killed (412 MiB)'));
    expect(screen).toContain(exitLine(exitOf(P.notFound), 'exit 127 (command not found)'));
    expect(screen).toContain(exitLine(exitOf(P.ok), 'exit 0'));

    // Nothing of the hostile comm reached the terminal as control bytes: not in the screen (tmux would
    // have acted on it), and not in the raw output stream either (no ESC[31m before "ill", no BEL at all).
    expect(screen).not.toContain('\x1b');
    expect(screen).not.toContain('\x07');
    expect(screen).toMatch(/^ replay: .* running/m); // the status bar is intact
    const bytes = fs.readFileSync(raw, 'latin1');
    expect(bytes.length, 'pipe-pane saw the output').toBeGreaterThan(1000);
    expect(bytes).not.toContain('k\x1b[31m');
    expect(bytes).not.toContain('\x07');
    expect(bytes).not.toContain('{open}'); // blessed turned the escaped braces back into braces
  });

  it('shows the OOM row in the details popup, selected by a search for its argument', async () => {
    const p = launch();
    await p.waitFor(allRowsShown, 'all six rows');
    p.send('\\');
    p.type('ballast');
    let screen = await p.waitFor((s) => /search "ballast"/.test(s) && pidsOf(s).length === 1, 'the search to narrow to one row');
    expect(pidsOf(screen)).toEqual([P.oom]);
    p.send('Enter'); // keeps the search, closes the prompt
    await p.waitFor((s) => !/ Search> /.test(s) && pidsOf(s).length === 1, 'the prompt to close');
    p.send('Enter');
    screen = await p.waitFor((s) => s.includes(`Process ${P.oom}`) && /Reason {4}\S/.test(s), 'the details popup');
    expect(screen).toMatch(/Status {4}OOM-killed \(412 MiB\) after 900ms at \d\d:\d\d:\d\d\.\d{3}/);
    expect(screen).toMatch(/Reason {4}oom\s/);
    expect(screen).toContain(`PID       ${P.oom}   PPID 1`);
    expect(screen).toContain(OOM_ARG);
    expect(screen).toMatch(/Exit from the kernel/);
  });

  it('narrows the table to the OOM row when searching for "oom", and restores it on Escape', async () => {
    const p = launch();
    await p.waitFor(allRowsShown, 'all six rows');
    p.send('\\');
    p.type('oom');
    const screen = await p.waitFor((s) => /search "oom"/.test(s) && pidsOf(s).length === 1, 'the search to narrow to one row');
    expect(stateCells(screen)).toEqual([{ pid: P.oom, state: 'OOM' }]);
    p.send('Escape');
    const after = await p.waitFor((s) => !/search "/.test(s) && pidsOf(s).length === ALL_PIDS.length, 'all rows back');
    expect(pidsOf(after).sort()).toEqual([...ALL_PIDS].sort());
  });

  it('sorts by STATE: running first ascending, grouped by why (ok, code, signal, core, oom)', async () => {
    const p = launch();
    await p.waitFor(allRowsShown, 'all six rows');
    p.send('>', '>', '>', '>', '>'); // started (the default) -> age -> cpu -> rss -> unit -> state
    let screen = await p.waitFor(/sort state▼/, 'sort by state, descending');
    const desc = stateCells(screen);
    expect(desc.map((c) => c.state)).toEqual(['OOM', 'SEGV core', 'SIGTERM', 'exit 127', 'exit 0', 'run']);
    p.send('r');
    screen = await p.waitFor(/sort state▲/, 'sort by state, ascending');
    const asc = stateCells(screen);
    expect(asc.map((c) => c.state)).toEqual(['run', 'exit 0', 'exit 127', 'SIGTERM', 'SEGV core', 'OOM']);
    expect(asc.map((c) => c.pid)).toEqual([P.running, P.ok, P.notFound, P.term, P.segv, P.oom]);
    expect(asc.map((c) => c.pid)).toEqual(desc.map((c) => c.pid).reverse());
  });
});
