// The one screen owner: picks a terminfo blessed can parse, keeps stderr off the screen while the UI
// runs, and restores the terminal exactly once on every exit path (quit, error, signal).

import blessed from 'blessed';
import type { Widgets } from 'blessed';

export interface TerminalChoice {
  /** Terminal name handed to blessed. */
  terminal: string;
  color: boolean;
  /** UTF-8 locale: draw box and block characters directly; otherwise the UI uses ASCII glyphs. */
  utf8: boolean;
}

/** TERM values that get blessed's plain `xterm` entry: the 256-colour one would claim too much. */
const PLAIN_TERMS = /^(xterm|xterm-color|dumb|vt\d+|linux|ansi)$/;

/**
 * blessed cannot parse ncurses >= 6.1's 32-bit terminfo (Debian 12's tmux-256color, screen-256color,
 * xterm-256color) and prints a parser error for screen-256color. Asking for `xterm-256color` makes it
 * fall back to its own bundled xterm-256color when the system file does not parse; every terminal
 * lifetop targets (tmux, screen, xterm-likes over SSH) understands those sequences.
 */
export function pickTerminal(env: NodeJS.ProcessEnv, color: boolean): TerminalChoice {
  const noColor = !color || (env.NO_COLOR !== undefined && env.NO_COLOR !== '');
  const plain = noColor || PLAIN_TERMS.test(env.TERM ?? '');
  return { terminal: plain ? 'xterm' : 'xterm-256color', color: !noColor, utf8: localeIsUtf8(env) };
}

/** blessed draws box and block characters as `?` unless the locale is UTF-8. */
export function localeIsUtf8(env: NodeJS.ProcessEnv): boolean {
  return /utf-?8/i.test(`${env.LC_ALL ?? ''}:${env.LC_CTYPE ?? ''}:${env.LANG ?? ''}`);
}

let screen: Widgets.Screen | null = null;
let savedStderrWrite: typeof process.stderr.write | null = null;
const STDERR_KEEP = 200;
const stderrLines: string[] = [];

/** What was written to stderr while the UI owned the terminal (e.g. a blessed terminfo complaint). */
export function capturedStderr(): string[] {
  return stderrLines.slice();
}

function captureStderr(): void {
  if (savedStderrWrite) return;
  savedStderrWrite = process.stderr.write;
  const sink = (chunk: unknown, enc?: unknown, cb?: unknown): boolean => {
    stderrLines.push(String(chunk));
    if (stderrLines.length > STDERR_KEEP) stderrLines.shift();
    const done = typeof enc === 'function' ? enc : cb;
    if (typeof done === 'function') process.nextTick(done as () => void);
    return true;
  };
  process.stderr.write = sink as typeof process.stderr.write;
}

function releaseStderr(): void {
  if (!savedStderrWrite) return;
  process.stderr.write = savedStderrWrite;
  savedStderrWrite = null;
}

export interface TerminalIo {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
}

/** Create the one screen. stderr is captured first: blessed reports terminfo trouble while constructing. */
export function openScreen(choice: TerminalChoice, io: TerminalIo = { input: process.stdin, output: process.stdout }): Widgets.Screen {
  if (screen) throw new Error('the lifetop screen is already open');
  captureStderr();
  try {
    const options = {
      terminal: choice.terminal,
      smartCSR: true,
      fullUnicode: false,
      warnings: false,
      sendFocus: false,
      autoPadding: false,
      dockBorders: false,
      input: io.input,
      output: io.output,
    };
    // @types/blessed declares the screen's input as Writable and output as Readable (swapped).
    screen = blessed.screen(options as unknown as Widgets.IScreenOptions);
  } catch (err) {
    restoreTerminal();
    throw err;
  }
  // An uncaught exception anywhere (a timer, a source) must not leave the alternate screen up.
  process.once('exit', restoreTerminal);
  // In a UTF-8 locale send line characters as UTF-8, not via the DEC alternate character set: ACS
  // breaks in some terminals over SSH (what ncurses' NCURSES_NO_UTF8_ACS does, which blessed honours).
  if (choice.utf8) (screen.tput as unknown as { brokenACS: boolean }).brokenACS = true;
  return screen;
}

/**
 * Leave the alternate screen, show the cursor, end raw mode, give stderr back. Idempotent and safe
 * from signal handlers; falls back to raw escape sequences if blessed itself fails.
 */
export function restoreTerminal(): void {
  const s = screen;
  screen = null;
  if (s) {
    try {
      s.destroy();
    } catch {
      // blessed failed mid-teardown: reset what it would have (normal buffer, cursor, raw mode).
      if (process.stdout.isTTY) process.stdout.write('\x1b[?1049l\x1b[?25h\x1b[0m');
      if (process.stdin.isTTY && process.stdin.isRaw) process.stdin.setRawMode(false);
    }
  }
  releaseStderr();
}
