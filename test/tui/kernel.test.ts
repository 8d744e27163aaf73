// The real UI on the real kernel source in tmux: a python3 process appears, logs
// EXEC and EXIT; the filter prompt retargets the kernel live; hostile names stay
// text; lost events are shown and healed; `q` leaves nothing loaded.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bpfObjectsOf, bpfUnavailable, expectDetached, REAL_PYTHON, ROOT, skipReason, sleep } from '../support/lifetop';
import { exited, procState } from '../support/workload';
import { killServer, Pane, rowPid, tableRows, tmuxAvailable } from './tmux';

const skip = skipReason(bpfUnavailable() ?? (tmuxAvailable() ? null : 'tmux is not installed'));

let pane: Pane | null = null;
let tmp = '';
const children: ChildProcess[] = [];

function launch(args = '', width = 80, height = 24): { pane: Pane; pid: () => number } {
  const pidFile = path.join(tmp, `lifetop-${Date.now()}.pid`);
  // exec keeps the pid, so the test knows which process holds the BPF objects.
  const cmd = `cd ${ROOT} && echo $$ > ${pidFile} && exec env LANG=C.UTF-8 node bin/lifetop ${args}`;
  pane = Pane.start(`k-${process.pid}-${Date.now()}`, `sh -c '${cmd}'; echo "EXITED $?"; sleep 600`, width, height);
  return { pane, pid: () => Number(fs.readFileSync(pidFile, 'utf8')) };
}

function spawnKid(cmd: string, args: string[]): ChildProcess {
  const c = spawn(cmd, args, { stdio: 'ignore' });
  children.push(c);
  return c;
}

async function until(what: string, pred: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const FLOOD = 'import os\nfor _ in range(3000):\n    pid = os.fork()\n    if pid == 0: os._exit(0)\n    os.waitpid(pid, 0)';

/** The event log's lines on the screen: after its title, before the key hint line. */
function logLines(screen: string): string[] {
  const lines = screen.split('\n');
  const title = lines.findIndex((l) => /^── Events \d+/.test(l));
  return title < 0 ? [] : lines.slice(title + 1).filter((l) => /^\d\d:\d\d:\d\d\.\d{3} /.test(l));
}

/** Focuses the log, goes to its oldest line and pages down to the newest; the first log line matching each pattern. */
async function logSearch(p: Pane, patterns: RegExp[]): Promise<string[]> {
  p.send('Tab');
  p.send('Home');
  const found = new Map<RegExp, string>();
  let screen = await p.waitFor((sc) => logLines(sc).length > 0 && !/EXITED/.test(sc), 'the log, from its oldest line');
  for (let page = 0; page < 50; page++) {
    const lines = logLines(screen);
    for (const re of patterns) {
      const hit = lines.find((l) => re.test(l));
      if (hit && !found.has(re)) found.set(re, hit);
    }
    if (found.size === patterns.length) break;
    p.send('PageDown');
    const before = lines.join('\n');
    try {
      screen = await p.waitFor((sc) => logLines(sc).join('\n') !== before, 'the next page of the log', 3_000);
    } catch {
      break; // the last page: nothing moved
    }
  }
  return patterns.flatMap((re) => (found.has(re) ? [found.get(re)!] : []));
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

  it('shows a ring overflow while frozen (LOST ring N, recovered) and heals the table', async () => {
    // A 16 KiB ring, lifetop frozen with SIGSTOP while a fork flood overflows it; meanwhile one
    // traced process starts (and lives) and one starts and is killed: both their execs are lost.
    const py = path.join(tmp, 'tuil-py');
    fs.symlinkSync(REAL_PYTHON, py);
    const ui = launch("-f 'tuil-py' --ring-size 0.015625", 160, 40); // wide: the recovered EXEC line fits
    await ui.pane.waitFor(/bpf: tuil-py .*lost 0/, 'the status bar, nothing lost yet');
    const lt = ui.pid();
    const held = bpfObjectsOf(lt);
    process.kill(lt, 'SIGSTOP');
    let started: ChildProcess;
    let killed: ChildProcess;
    try {
      await until('lifetop to stop', () => procState(lt) === 'T');
      expect((await exited(spawnKid(py, ['-c', FLOOD]))).code).toBe(0);
      started = spawnKid(py, ['-c', 'import time; time.sleep(60)', 'tuil-started']);
      killed = spawnKid(py, ['-c', 'import time; time.sleep(60)', 'tuil-killed']);
      await until('both sleepers to run python', () => [started, killed].every((c) => procState(c.pid!) === 'S'));
      killed.kill('SIGKILL');
      await exited(killed);
    } finally {
      process.kill(lt, 'SIGCONT');
    }
    const s = started!.pid!;
    const k = killed!.pid!;
    // Healed: the loss and the recovery in the status bar, the started process back and running, and
    // no ghost (rows of the ring's backlog, delivered after the first heal, end at the next reconcile).
    const running = (sc: string) => tableRows(sc).filter((r) => /run\s*$/.test(r)).map(rowPid);
    const screen = await ui.pane.waitFor((sc) => /LOST ring [\d.]+k? +[1-9]\d* recovered/.test(sc.split('\n')[0])
      && running(sc).includes(s) && running(sc).every((pid) => [null, 'Z'].every((st) => procState(pid) !== st)),
    'the loss in the status bar, the started process back and running, no ghost');
    expect(rowOf(screen, k) ?? 'absent').not.toMatch(/run\s*$/);
    // The log holds what the ring kept (~150 lines) besides the loss: page through it from the top.
    const log = await logSearch(ui.pane, [/LOST \d+ events \(kernel ring buffer full\): healing from \/proc/,
      new RegExp(`EXEC ${s}<-\\d+ tuil-py .*tuil-started \\(recovered from /proc\\)`)]);
    expect(log, 'the LOST line and the recovered EXEC in the log').toHaveLength(2);
    ui.pane.send('q');
    await ui.pane.waitFor(/EXITED 0/, 'lifetop to exit 0');
    await expectDetached(held);
  });
});
