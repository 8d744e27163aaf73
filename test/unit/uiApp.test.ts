// runUi wired to the real model through pipes instead of a terminal: keys in, screen bytes out.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventLog } from '../../src/model/eventLog';
import { ProcessTable } from '../../src/model/processTable';
import { Rates } from '../../src/model/rates';
import type { ExecEvent, ExitEvent, FilterSpec, LifecycleEvent, LossStage } from '../../src/core/types';
import { restoreTerminal, runUi, type UiSession } from '../../src/ui/app';
import { capturedStderr } from '../../src/ui/terminal';

const T0 = Date.UTC(2025, 0, 2, 3, 4, 5);

function exec(pid: number, comm: string, args: string[]): ExecEvent {
  return {
    type: 'exec', time: T0, pid, ppid: 1, tid: pid, uid: 0, comm, start: pid * 1e9, startedAt: T0 - 1000,
    cgroupId: '1', filename: `/usr/bin/${comm}`, args, argsTruncated: false,
  };
}

/** The Session's shape over the real model, on a fixed clock so only real changes cause redraws. */
class FakeSession extends EventEmitter implements UiSession {
  readonly source = { kind: 'replay' as const };
  readonly table = new ProcessTable();
  readonly rates = new Rates(120);
  readonly log = new EventLog(100);
  filter: FilterSpec = { patterns: ['python*'], followChildren: true };
  readonly filters: FilterSpec[] = [];
  /** How often the UI asked for the time: its frame scheduler asks once per tick. */
  nowCalls = 0;
  now(): number {
    this.nowCalls++;
    return T0;
  }
  setFilter(spec: FilterSpec): void {
    this.filter = spec;
    this.filters.push(spec);
  }
  eventsPerSec(): number {
    return 0;
  }
  lost: Record<LossStage, number> = { kernel_ring: 0, addon_queue: 0, traced_map: 0 };
  loss(): Record<LossStage, number> {
    return { ...this.lost };
  }
  fault: string | null = null;
  readonly inferred = { recovered: 0 };
  /** What reconcileNow() finds (applied as the session would), and how often it ran. */
  reconciled: LifecycleEvent[] = [];
  reconciles = 0;
  reconcileNow(): void {
    this.reconciles++;
    if (this.reconciled.length > 0) this.feed(this.reconciled.splice(0));
  }
  snapshotCounters(): Record<string, number> {
    return { execs: 3, lost_kernel_ring: this.lost.kernel_ring, recovered: this.inferred.recovered };
  }
  feed(events: LifecycleEvent[]): void {
    this.table.apply(events, T0);
    this.log.push(events);
    this.emit('change');
  }
}

interface Term {
  input: PassThrough;
  output: PassThrough;
  /** Everything written, raw. */
  written: () => string;
  /** What a terminal would show now (blessed only redraws changed cells, so raw bytes are not the screen). */
  screen: () => string;
}

const COLS = 120;
const ROWS = 30;

/** Just enough of a terminal to read blessed's output back: cursor moves, text, clears; attributes ignored. */
function emulate(data: string): string {
  let grid = Array.from({ length: ROWS }, () => Array<string>(COLS).fill(' '));
  let alt = grid;
  let main = grid;
  let row = 0;
  let col = 0;
  let saved = [0, 0];
  const re = /\x1b\[([?\d;]*)([A-Za-z@])|\x1b\][^\x07]*\x07|\x1b[()][0-9A-Za-z]|\x1b([78=>])|([\r\n])|([^\x1b\r\n]+)/g;
  for (let m = re.exec(data); m; m = re.exec(data)) {
    const [, params, final, esc, ctl, text] = m;
    if (text !== undefined) {
      for (const ch of text) {
        if (col < COLS) grid[row][col] = ch;
        col++;
      }
    } else if (ctl === '\r') col = 0;
    else if (ctl === '\n') row = Math.min(ROWS - 1, row + 1);
    else if (esc === '7') saved = [row, col];
    else if (esc === '8') [row, col] = saved;
    else if (final === 'H' || final === 'f') {
      const [r = 1, c = 1] = (params || '').split(';').map((n) => Number(n || 1));
      row = Math.min(ROWS - 1, r - 1);
      col = c - 1;
    } else if (final === 'C') col += Number(params || 1);
    else if (final === 'J' && params === '2') grid.forEach((l) => l.fill(' '));
    else if (final === 'K') grid[row].fill(' ', col);
    else if ((final === 'h' || final === 'l') && params === '?1049') {
      if (final === 'h') {
        main = grid;
        alt = Array.from({ length: ROWS }, () => Array<string>(COLS).fill(' '));
        grid = alt;
      } else grid = main;
    }
  }
  return grid.map((l) => l.join('').trimEnd()).join('\n');
}

function terminal(): Term {
  const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => input });
  const output = Object.assign(new PassThrough(), { isTTY: true, columns: COLS, rows: ROWS });
  let buf = '';
  output.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
  });
  return { input, output, written: () => buf, screen: () => emulate(buf) };
}

const settle = (ms = 250): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100 && !cond(); i++) await settle(50);
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

/** Resolves once the UI's frame scheduler has ticked n more times. */
async function ticks(s: FakeSession, n: number): Promise<void> {
  const target = s.nowCalls + n;
  await until(() => s.nowCalls >= target, `${n} scheduler ticks`);
}

let running: Promise<number> | null = null;
let term: Term | null = null;

afterEach(async () => {
  if (running && term) {
    term.input.write('q');
    await running;
  }
  running = null;
  term = null;
});

function start(session: FakeSession, snapshotDir?: string): Term {
  term = terminal();
  running = runUi(session, { ascii: false, color: true, snapshotDir, io: { input: term.input, output: term.output } });
  return term;
}

describe('runUi', () => {
  it('draws model rows and resolves 0 on q, leaving the alternate screen with the cursor shown', async () => {
    const s = new FakeSession();
    s.feed([exec(4242, 'python3', ['python3', 'serve.py'])]);
    const t = start(s);
    await until(() => t.screen().includes('serve.py'), 'the row');
    expect(t.written()).toContain('\x1b[?1049h');
    t.input.write('q');
    expect(await running).toBe(0);
    running = null;
    const tail = t.written().slice(t.written().lastIndexOf('serve.py'));
    expect(tail).toContain('\x1b[?1049l');
    expect(tail).toContain('\x1b[?25h');
    expect(t.screen().trim()).toBe(''); // back on the (here empty) main screen
  });

  it('writes nothing while nothing changes, and redraws when the model moves', async () => {
    const s = new FakeSession();
    const t = start(s);
    await until(() => /^\s+PID /m.test(t.screen()), 'first frame');
    await ticks(s, 2); // whatever the first frame left to draw is drawn
    const idle = t.written().length;
    await ticks(s, 4); // four scheduler ticks with nothing new
    expect(t.written().length).toBe(idle);
    s.feed([exec(777, 'python3', ['python3', 'fresh.py'])]);
    await until(() => t.screen().includes('fresh.py'), 'the new row');
  });

  it('applies a valid kernel filter and refuses an invalid one with the error shown', async () => {
    const s = new FakeSession();
    const t = start(s);
    await until(() => /^\s+PID /m.test(t.screen()), 'first frame');
    t.input.write('/');
    t.input.write('\x15'); // Ctrl-U clears the pre-filled filter
    t.input.write('py*x\r');
    await until(() => t.screen().includes('"*" must be the last character'), 'the filter error');
    expect(s.filters).toEqual([]);
    t.input.write('\x15node,gunicorn*\r');
    await until(() => s.filters.length === 1, 'setFilter');
    expect(s.filters[0]).toEqual({ patterns: ['node', 'gunicorn*'], followChildren: true });
  });

  it('saves the rows as shown with w and reports the path', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifetop-ui-'));
    try {
      const s = new FakeSession();
      s.feed([exec(10, 'python3', ['python3', 'a.py']), exec(20, 'python3', ['python3', 'b.py']), exec(30, 'uvicorn', ['uvicorn', 'm:app'])]);
      const t = start(s, dir);
      await until(() => t.screen().includes('b.py'), 'rows');
      t.input.write('\\a.py\r'); // search first: the snapshot must hold only what is shown
      t.input.write('w\x15shot.json\r');
      const target = path.join(dir, 'shot.json');
      await until(() => t.screen().includes(`saved ${target} (1 rows)`), 'the saved message');
      const snap = JSON.parse(fs.readFileSync(target, 'utf8')) as { processes: { pid: number }[] };
      expect(snap.processes.map((p) => p.pid)).toEqual([10]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('saves folded rows too: folding changes only what is shown', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifetop-ui-'));
    try {
      const s = new FakeSession();
      // An sh -c wrapper of one child: folded away on screen.
      s.feed([exec(10, 'sh', ['sh', '-c', 'python3 a.py']), { ...exec(11, 'python3', ['python3', 'a.py']), ppid: 10 }]);
      const t = start(s, dir);
      await until(() => t.screen().includes('1 folded (z)'), 'the wrapper folded');
      t.input.write('w\x15all.json\r');
      const target = path.join(dir, 'all.json');
      await until(() => t.screen().includes(`saved ${target} (2 rows)`), 'the saved message');
      const snap = JSON.parse(fs.readFileSync(target, 'utf8')) as { processes: { pid: number }[] };
      expect(snap.processes.map((p) => p.pid).sort()).toEqual([10, 11]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reconciles right before saving and writes the counters; a paused screen is written as shown', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifetop-ui-'));
    try {
      const s = new FakeSession();
      s.feed([exec(10, 'python3', ['python3', 'a.py']), exec(20, 'python3', ['python3', 'b.py'])]);
      const t = start(s, dir);
      await until(() => t.screen().includes('b.py'), 'rows');
      // /proc shows 20 as a zombie that exited 3: the snapshot must say so, not "running".
      const zombie: ExitEvent = {
        ...exec(20, 'python3', []), type: 'exit', exitCode: 3, signal: 0, coreDumped: false, durationMs: 5, cpuMs: 0, inferred: 'zombie',
      };
      s.reconciled = [zombie];
      s.lost.kernel_ring = 4;
      t.input.write('w\x15live.json\r');
      await until(() => t.screen().includes('(2 rows)'), 'the saved message');
      expect(s.reconciles).toBe(1);
      const live = JSON.parse(fs.readFileSync(path.join(dir, 'live.json'), 'utf8')) as {
        counters: Record<string, number>; processes: { pid: number; state: string; exit_code: number | null; exit_from: string | null }[];
      };
      expect(live.counters).toEqual({ execs: 3, lost_kernel_ring: 4, recovered: 0 });
      expect(live.processes.map((p) => [p.pid, p.state, p.exit_code, p.exit_from])).toEqual([
        [10, 'running', null, null], [20, 'exited', 3, 'proc'],
      ]);
      await until(() => t.screen().includes('Z exit 3'), 'the zombie exit on screen');

      t.input.write('p');
      await until(() => t.screen().includes('PAUSED'), 'pause');
      s.reconciled = [{ ...zombie, pid: 10, start: 10 * 1e9 }];
      t.input.write('w\x15paused.json\r');
      await until(() => fs.existsSync(path.join(dir, 'paused.json')), 'the paused snapshot');
      expect(s.reconciles).toBe(1); // not reconciled: what the paused screen shows is what is written
      const paused = JSON.parse(fs.readFileSync(path.join(dir, 'paused.json'), 'utf8')) as { processes: { pid: number; state: string }[] };
      expect(paused.processes.map((p) => [p.pid, p.state])).toEqual([[10, 'running'], [20, 'exited']]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('shows loss per stage, the rows recovered, and a fault of the source', async () => {
    const s = new FakeSession();
    s.feed([exec(10, 'python3', ['python3', 'a.py'])]);
    const t = start(s);
    await until(() => t.screen().includes('a.py'), 'rows');
    expect(t.screen().split('\n')[0]).toMatch(/ev\/s\s+lost 0\s*$/);
    s.lost = { kernel_ring: 5, addon_queue: 0, traced_map: 1 };
    s.inferred.recovered = 2;
    s.fault = 'the kernel event reader failed (errno 5): events are no longer received';
    s.feed([exec(11, 'python3', ['python3', 'b.py'])]); // the model moves: a redraw
    await until(() => t.screen().includes('b.py'), 'the redraw');
    const [top, second] = t.screen().split('\n');
    expect(top).toMatch(/ LOST ring 5 map 1 {2}2 recovered\s*$/);
    expect(second).toContain('the kernel event reader failed (errno 5)');
  });

  it('shows a failed snapshot as a one-line error and keeps running', async () => {
    const s = new FakeSession();
    s.feed([exec(10, 'python3', ['python3', 'a.py'])]);
    const t = start(s);
    await until(() => t.screen().includes('a.py'), 'rows');
    const target = path.join(os.tmpdir(), `lifetop-missing-${process.pid}`, 'x.json');
    t.input.write(`w\x15${target}\r`);
    await until(() => t.screen().split('\n')[1].includes(target) && !t.screen().includes('saving'), 'the error');
    expect(t.screen()).not.toMatch(/saved /);
    expect(fs.existsSync(target)).toBe(false);
    s.feed([exec(11, 'python3', ['python3', 'still-alive.py'])]);
    await until(() => t.screen().includes('still-alive.py'), 'the UI to keep drawing');
  });

  it('keeps stderr off the screen while running and gives it back afterwards', async () => {
    const s = new FakeSession();
    const t = start(s);
    await until(() => /^\s+PID /m.test(t.screen()), 'first frame');
    process.stderr.write('noise from a library\n');
    expect(capturedStderr().join('')).toContain('noise from a library');
    t.input.write('q');
    await running;
    running = null;
    const before = capturedStderr().length;
    process.stderr.write(''); // reaches the real stderr again, not the capture
    expect(capturedStderr().length).toBe(before);
  });

  it('restoreTerminal() from a signal handler restores at once, is idempotent, and stops drawing', async () => {
    // The frame scheduler on a clock the test moves: after the end, any amount of time can be let pass.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const s = new FakeSession();
      const t = start(s);
      await until(() => /^\s+PID /m.test(t.screen()), 'first frame');
      expect(vi.getTimerCount(), 'the frame scheduler').toBe(1);
      restoreTerminal();
      restoreTerminal();
      expect(t.written()).toContain('\x1b[?1049l');
      expect(t.screen()).not.toMatch(/PID/); // back on the main screen
      s.feed([exec(99, 'python3', ['python3', 'late.py'])]);
      expect(await running).toBe(0); // the UI is over once its terminal is gone
      running = null;
      expect(vi.getTimerCount(), 'the frame scheduler, stopped').toBe(0);
      const asked = s.nowCalls;
      vi.advanceTimersByTime(1_000); // ten frames
      await new Promise((r) => setImmediate(r)); // let any write it made land
      expect(s.nowCalls).toBe(asked);
      expect(t.written()).not.toContain('late.py');
    } finally {
      vi.useRealTimers();
    }
  });
});
