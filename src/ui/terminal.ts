// The one screen owner: picks a terminfo blessed can parse, keeps stderr off the screen while the UI
// runs, and restores the terminal exactly once on every exit path (quit, error, signal).

import * as tty from 'node:tty';
import * as widgets from './widgets';
import type { Widgets } from 'blessed';
import { isHangup, releaseDeadTerminal } from '../hangup';

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
/** Why the terminal ended the UI, if it failed other than by hanging up (reported by runUi). */
let failure: Error | null = null;
/** Set while lifetop stops itself (Ctrl-Z): the SIGCONT that ends the stop finds the terminal taken back. */
let selfStopped = false;
const guarded = new WeakSet<object>();
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
    screen = widgets.screen(options as unknown as Widgets.IScreenOptions);
  } catch (err) {
    restoreTerminal();
    throw err;
  }
  failure = null;
  watchTerminal(io);
  if (jobControl(screen)) {
    process.on('SIGTSTP', suspendTerminal);
    process.on('SIGCONT', onContinue);
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
    process.removeListener('SIGTSTP', suspendTerminal);
    process.removeListener('SIGCONT', onContinue);
    try {
      s.destroy();
    } catch {
      // blessed failed mid-teardown: reset what it would have (normal buffer, cursor, raw mode).
      try {
        if (process.stdout.isTTY && process.stdout.writable) process.stdout.write('\x1b[?1049l\x1b[?25h\x1b[0m');
        if (process.stdin.isTTY && process.stdin.isRaw) process.stdin.setRawMode(false);
      } catch {
        // the terminal is gone: nothing left to restore
      }
    }
  }
  releaseStderr();
}

/** Why the terminal ended the last UI when it failed other than by hanging up, else null. */
export function terminalFailure(): Error | null {
  return failure;
}

/**
 * A terminal that goes away ends the UI: its writes and raw-mode calls fail (EIO once the pty is closed)
 * and its reads end (in raw mode Ctrl-D is a key, so end-of-file means the terminal hung up). A hang-up is
 * a normal end, quiet; any other failure is kept for runUi to report. The listeners stay after the screen
 * closes, because the writes of the teardown itself fail after it.
 */
function watchTerminal(io: TerminalIo): void {
  for (const stream of [io.input, io.output]) {
    if (guarded.has(stream)) continue;
    guarded.add(stream);
    stream.on('error', terminalGone);
    if (stream === io.input) stream.on('end', () => terminalGone(null));
  }
}

function terminalGone(err: Error | null): void {
  if (err && !isHangup(err) && screen) failure ??= err;
  restoreTerminal();
  releaseDeadTerminal();
}

/** Suspending needs a real terminal with a shell behind it; piped streams (unit tests) have none. */
function jobControl(s: Widgets.Screen): boolean {
  const input = s.program.input as unknown;
  return input instanceof tty.ReadStream && input.isTTY;
}

/** Screen methods @types/blessed leaves out: switch to the normal buffer and back. */
interface ScreenBuffers {
  enter(): void;
  leave(): void;
}

function setRawMode(s: Widgets.Screen, raw: boolean): void {
  const input = s.program.input as unknown as tty.ReadStream;
  input.setRawMode(raw);
}

/**
 * Ctrl-Z or SIGTSTP, as htop does it: give the terminal back the way the shell left it (normal screen,
 * cursor shown, line mode), stop; `fg` (SIGCONT) continues the process here and the screen is taken back.
 */
export function suspendTerminal(): void {
  const s = screen;
  if (!s || !jobControl(s)) return;
  (s as unknown as ScreenBuffers).leave(); // normal buffer, cursor, keypad: written out now, before stopping
  setRawMode(s, false);
  selfStopped = true;
  process.kill(process.pid, 'SIGSTOP'); // returns once continued
  if (screen === s) takeBack(s);
}

/** A SIGCONT lifetop did not ask for (kill -STOP, then -CONT): the shell may have had the terminal meanwhile. */
function onContinue(): void {
  if (selfStopped) {
    selfStopped = false;
    return;
  }
  if (screen) takeBack(screen);
}

/** Raw mode and the alternate screen again, then everything redrawn at the current size (it may have changed). */
function takeBack(s: Widgets.Screen): void {
  // Node skips a mode it believes is set: clear it first, the shell may have changed it behind Node's back.
  setRawMode(s, false);
  setRawMode(s, true);
  (s as unknown as ScreenBuffers).enter(); // alternate buffer, keypad, hidden cursor (nothing if the stop never left it)
  const out = s.program.output as unknown as Partial<tty.WriteStream>;
  if (typeof out.getWindowSize === 'function') [s.program.cols, s.program.rows] = out.getWindowSize();
  s.program.emit('resize'); // blessed reallocates and repaints every cell; the app lays out again
}
