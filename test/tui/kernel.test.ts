// The real UI on the real kernel source in tmux: a python3 process appears, logs
// EXEC and EXIT; the filter prompt retargets the kernel live; hostile names stay
// text; `q` leaves nothing loaded.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bpfObjectsOf, bpfUnavailable, expectDetached, REAL_PYTHON, ROOT, skipReason } from '../support/lifetop';
import { killServer, Pane, tmuxAvailable } from './tmux';

const skip = skipReason(bpfUnavailable() ?? (tmuxAvailable() ? null : 'tmux is not installed'));

let pane: Pane | null = null;
let tmp = '';
const children: ChildProcess[] = [];

function launch(args = ''): { pane: Pane; pid: () => number } {
  const pidFile = path.join(tmp, `lifetop-${Date.now()}.pid`);
  // exec keeps the pid, so the test knows which process holds the BPF objects.
  const cmd = `cd ${ROOT} && echo $$ > ${pidFile} && exec env LANG=C.UTF-8 node bin/lifetop ${args}`;
  pane = Pane.start(`k-${process.pid}-${Date.now()}`, `sh -c '${cmd}'; echo "EXITED $?"; sleep 600`, 80, 24);
  return { pane, pid: () => Number(fs.readFileSync(pidFile, 'utf8')) };
}

function spawnKid(cmd: string, args: string[]): ChildProcess {
  const c = spawn(cmd, args, { stdio: 'ignore' });
  children.push(c);
  return c;
}

/** The table line for a pid (first column). */
function rowOf(screen: string, pid: number): string | undefined {
  return screen.split('\n').find((l) => new RegExp(`^\\s*${pid}\\s`).test(l));
}

describe.skipIf(skip)('lifetop UI on the kernel source', () => {
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lifetop-tuik-'));
  });
  afterEach(() => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
    pane?.kill();
    pane = null;
  });
  afterAll(() => {
    killServer();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('shows a new python process, its EXEC line, then its exit; q leaves nothing loaded', async () => {
    // python under a name of its own: other tests' python runs (in parallel) cannot push it off the screen.
    const py = path.join(tmp, 'tuik-py');
    fs.symlinkSync(REAL_PYTHON, py);
    const ui = launch("-f 'tuik-py'");
    await ui.pane.waitFor(/bpf: tuik-py/, 'the status bar of the bpf source');
    const held = bpfObjectsOf(ui.pid());
    const kid = spawnKid(py, ['-c', 'import time; time.sleep(2); raise SystemExit(4)']);
    const pid = kid.pid!;
    const running = await ui.pane.waitFor((s) => /run/.test(rowOf(s, pid) ?? '') && s.includes(`EXEC ${pid}<-`), 'the running row and EXEC line');
    expect(rowOf(running, pid)).toContain('tuik-py');
    const exited = await ui.pane.waitFor((s) => /exit 4/.test(rowOf(s, pid) ?? '') && s.includes(`EXIT ${pid}<-`), 'the exit');
    expect(exited).toMatch(new RegExp(`EXIT ${pid}<-\\d+ tuik-py exit 4`));
    ui.pane.send('q');
    await ui.pane.waitFor(/EXITED 0/, 'lifetop to exit 0');
    expect(ui.pane.format('#{alternate_on}')).toBe('0');
    await expectDetached(held);
  });

  it('applies a new kernel filter typed at the / prompt', async () => {
    const ui = launch();
    await ui.pane.waitFor(/bpf: python\*,uvicorn\*/, 'the status bar');
    ui.pane.send('/');
    await ui.pane.waitFor(/Filter \(comm patterns\)>/, 'the filter prompt');
    ui.pane.send('C-u');
    ui.pane.type('sleep');
    ui.pane.send('Enter');
    await ui.pane.waitFor(/bpf: sleep/, 'the new filter in the status bar');
    const kid = spawnKid('sleep', ['5']);
    const screen = await ui.pane.waitFor((s) => rowOf(s, kid.pid!) !== undefined, 'the sleep process in the table');
    expect(rowOf(screen, kid.pid!)).toMatch(/sleep/);
    ui.pane.send('/');
    await ui.pane.waitFor(/Filter \(comm patterns\)>/, 'the filter prompt again');
    ui.pane.send('C-u');
    ui.pane.type('bad*pattern');
    ui.pane.send('Enter');
    await ui.pane.waitFor(/bad\*pattern.*"\*" must be/, 'the error shown in the prompt');
    ui.pane.send('Escape');
    await ui.pane.waitFor(/bpf: sleep/, 'the old filter kept');
  });

  it('shows a hostile comm (prctl) and argv as escaped text, without clearing the screen', async () => {
    // python under a name of its own (other tests run python in parallel), renamed to escapes by prctl.
    const py = path.join(tmp, 'tuih-py');
    fs.symlinkSync(REAL_PYTHON, py);
    const ui = launch("-f 'tuih-py'");
    await ui.pane.waitFor(/bpf: tuih-py/, 'the status bar');
    const code = "#\x1b[2J\x07{bold}\nimport ctypes, time\nctypes.CDLL(None).prctl(15, b'\\x1b[2J\\x07{bold}', 0, 0, 0)\ntime.sleep(6)";
    const kid = spawnKid(py, ['-c', code, '{red-fg}\x1b[31m']);
    const screen = await ui.pane.waitFor((s) => (rowOf(s, kid.pid!) ?? '').includes('\\x1b[2J'), 'the renamed process, escaped');
    const row = rowOf(screen, kid.pid!)!;
    expect(row).toContain('\\x1b[2J\\x07'); // comm from prctl, ESC and BEL shown as text
    expect(row).toContain('\\x07{'); // a tag brace stays text (the row is cut at the column's width)
    expect(screen.split('\n')[0]).toMatch(/bpf: tuih-py/); // the status bar is still there: nothing cleared the screen
    // Other tests run python too: narrow the table to this process, then open its details.
    ui.pane.send('\\');
    await ui.pane.waitFor(/Search/i, 'the search prompt');
    ui.pane.type('red-fg');
    ui.pane.send('Enter');
    await ui.pane.waitFor((s) => rowOf(s, kid.pid!) !== undefined && s.split('\n').filter((l) => /^\s*\d+\s/.test(l)).length === 1,
      'only the hostile row left');
    ui.pane.send('Enter'); // details popup: full argv, escaped too
    const details = await ui.pane.waitFor(/\{red-fg\}\\x1b\[31m/, 'the hostile argv in the details popup');
    expect(details).not.toContain('\x1b');
    expect(details).toContain('{bold}'); // shown whole in the popup, as text
  });
});
