// Drive a real terminal for UI tests: a command in a detached tmux session on a private server socket,
// keys in with send-keys, the screen out with capture-pane, and polling until text appears.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { ROOT } from '../support/lifetop';

/** One private tmux server per test process, so test files running side by side never touch each other. */
export const SOCKET = `lifetop-test-${process.pid}`;

function tmux(args: string[]): string {
  const r = spawnSync('tmux', ['-L', SOCKET, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tmux ${args[0]} failed: ${(r.stderr || '').trim()}`);
  return r.stdout;
}

export function tmuxAvailable(): boolean {
  return spawnSync('tmux', ['-V'], { encoding: 'utf8' }).status === 0;
}

/** Stop the private server and every session on it (nothing else uses this socket). */
export function killServer(): void {
  spawnSync('tmux', ['-L', SOCKET, 'kill-server'], { encoding: 'utf8' });
}

export class Pane {
  private constructor(readonly name: string) {}

  /** Start `command` (run by sh) in a width x height session; the pane stays after exit so its status can be read. */
  static start(name: string, command: string, width = 80, height = 24): Pane {
    const args = ['new-session', '-d', '-x', String(width), '-y', String(height), '-s', name, command,
      ';', 'set-option', '-t', name, 'remain-on-exit', 'on'];
    // Killing the previous test's last session makes the server exit; a new-session that
    // reaches it while it is going says so. Connect again (bounded) rather than fail.
    for (let attempt = 1; ; attempt++) {
      try {
        tmux(args);
        return new Pane(name);
      } catch (err) {
        if (attempt >= 5 || !/server exited unexpectedly/.test((err as Error).message)) throw err;
        spawnSync('sleep', ['0.1']);
      }
    }
  }

  /** Named keys (Enter, Escape, Down, F6, C-u) or literal text with `literal`. */
  send(...keys: string[]): void {
    tmux(['send-keys', '-t', this.name, ...keys]);
  }

  type(text: string): void {
    tmux(['send-keys', '-t', this.name, '-l', text]);
  }

  screen(): string {
    return tmux(['capture-pane', '-p', '-t', this.name]);
  }

  lines(): string[] {
    return this.screen().split('\n');
  }

  resize(width: number, height: number): void {
    tmux(['resize-window', '-t', this.name, '-x', String(width), '-y', String(height)]);
  }

  /** Appends every byte the program writes to the pane from now on to `file` (escape sequences included). */
  pipeTo(file: string): void {
    tmux(['pipe-pane', '-o', '-t', this.name, `cat >> '${file}'`]);
  }

  /** tmux formats of the pane, e.g. '#{pane_dead} #{alternate_on}'. */
  format(fmt: string): string {
    return tmux(['display-message', '-p', '-t', this.name, fmt]).trim();
  }

  /**
   * Polls the screen until `test` holds on two captures in a row (a big frame can reach tmux in pieces, and
   * half a frame must not pass; identical captures are not asked for, since a busy machine redraws the log
   * every frame); fails with the last screen so a failure shows what was there.
   */
  async waitFor(test: RegExp | ((screen: string) => boolean), what: string, timeoutMs = 15_000): Promise<string> {
    const ok = typeof test === 'function' ? test : (s: string) => test.test(s);
    const deadline = Date.now() + timeoutMs;
    let held = false;
    let last = '';
    for (;;) {
      last = this.screen();
      const now = ok(last);
      if (now && held) return last;
      held = now;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; screen was:\n${last}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  kill(): void {
    spawnSync('tmux', ['-L', SOCKET, 'kill-session', '-t', this.name], { encoding: 'utf8' });
  }
}

/** Visible table rows: the lines after the column header (PID, PID▲ or PID▼) that start with a PID. */
export function tableRows(screen: string): string[] {
  const lines = screen.split('\n');
  const header = lines.findIndex((l) => /^\s*PID\b/.test(l));
  const rows: string[] = [];
  for (let i = header + 1; header >= 0 && i < lines.length && /^\s*\d+\s/.test(lines[i]); i++) rows.push(lines[i]);
  return rows;
}

/** The PID a table row starts with. */
export const rowPid = (row: string): number => Number(/^\s*(\d+)/.exec(row)![1]);

/**
 * The pane command that runs lifetop on a recording at full speed; with `gate`, lifetop starts only
 * once that file exists, so a pipe can attach first. The pane stays after it exits (tmux may drop
 * the output of a dying pane), saying how it ended.
 */
export function replayCommand(recording: string, extra = '', gate?: string): string {
  const wait = gate ? `while [ ! -e '${gate}' ]; do sleep 0.05; done; ` : '';
  return `cd ${ROOT} && ${wait}env LANG=C.UTF-8 node bin/lifetop --replay '${recording}' --replay-speed max ${extra}; `
    + 'echo "EXITED $?"; sleep 600';
}

/** Starts a pane (through `start(gate)`) with every byte it writes captured in `raw`, from before its first one. */
export function startCaptured(start: (gate: string) => Pane, dir: string): { pane: Pane; raw: string } {
  const raw = path.join(dir, `raw-${Date.now()}`);
  const gate = path.join(dir, `go-${Date.now()}`);
  const pane = start(gate);
  fs.writeFileSync(raw, '');
  pane.pipeTo(raw);
  fs.writeFileSync(gate, '');
  return { pane, raw };
}

export interface TmuxWorkspace {
  /** A temporary directory of the test file (removed at the end). */
  readonly dir: string;
  /** The pane of the running test: killed after it. */
  keep(pane: Pane): Pane;
  /** The test ended its pane itself: nothing to kill. */
  forget(): void;
}

/**
 * The set-up every tmux test file shares: tmux and the build are there, a temporary directory,
 * the pane of each test killed after it, the private server and the directory gone at the end.
 */
export function tmuxWorkspace(prefix: string): TmuxWorkspace {
  let dir = '';
  let pane: Pane | null = null;
  beforeAll(() => {
    if (!tmuxAvailable()) throw new Error('tmux is not installed (apt-get install tmux)');
    if (!fs.existsSync(path.join(ROOT, 'dist', 'cli.js'))) throw new Error('lifetop is not built: run make');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  });
  afterEach(() => {
    pane?.kill();
    pane = null;
  });
  afterAll(() => {
    killServer();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return dir;
    },
    keep: (p) => (pane = p),
    forget: () => {
      pane = null;
    },
  };
}
