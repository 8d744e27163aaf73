// The one key table: key → named action → new view state + what to redraw + side effects (htop's Action.c habit).
// Pure: effects (set the kernel filter, write a snapshot, suspend, quit) are returned for app.ts to perform.

import path from 'node:path';
import type { FilterSpec } from '../core/types';
import { SORT_COLUMNS } from '../model/processTable';
import { DEFAULT_FILTER, formatFilter, parseFilter, parseUnitFilter } from '../core/filter';
import { formatDate } from '../core/format';
import { clamp, ensureVisible, type PromptKind, type SignalTarget, type ViewState } from './viewState';

/** Redraw flags: which panes an action invalidates. */
export const Redraw = {
  NONE: 0, STATUS: 1, SPARKS: 2, TABLE: 4, LOG: 8, OVERLAY: 16, PROMPT: 32, ALL: 63,
} as const;

export type ActionName =
  | 'filterPrompt' | 'unitPrompt' | 'searchPrompt' | 'toggleAll' | 'toggleChildren' | 'sortPrev' | 'sortNext'
  | 'sortPicker' | 'reverse' | 'pause' | 'toggleExited' | 'toggleTree' | 'snapshotPrompt'
  | 'up' | 'down' | 'pageUp' | 'pageDown' | 'home' | 'end' | 'switchFocus' | 'details' | 'kill' | 'chart' | 'fold' | 'help' | 'suspend' | 'quit';

/** The signal menu, in order; TERM first and preselected, as htop's. */
export const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGKILL', 'SIGUSR1', 'SIGUSR2', 'SIGSTOP', 'SIGCONT'] as const;
export type SignalName = (typeof SIGNALS)[number];

export interface KeyBinding {
  keys: string[];
  action: ActionName;
  help: string;
  /** Short word for the bottom hint line; bindings without it only appear in the help overlay. */
  hint?: string;
}

export const KEY_TABLE: readonly KeyBinding[] = [
  { keys: ['/', 'f'], action: 'filterPrompt', help: 'kernel filter: comm patterns, e.g. python*,uvicorn', hint: 'filter' },
  { keys: ['u'], action: 'unitPrompt', help: 'show only units/containers, e.g. nginx.service,7f3a* (a container id prefix; empty: all)', hint: 'unit' },
  { keys: ['\\'], action: 'searchPrompt', help: 'search shown rows by comm/args/label (Esc clears)', hint: 'search' },
  { keys: ['a'], action: 'toggleAll', help: 'trace all processes (*) / back to the previous filter' },
  { keys: ['c'], action: 'toggleChildren', help: 'follow children of matched processes on/off' },
  { keys: ['<'], action: 'sortPrev', help: 'sort column: previous / next' },
  { keys: ['>'], action: 'sortNext', help: 'sort column: previous / next', hint: 'sort' },
  { keys: ['f6'], action: 'sortPicker', help: 'choose the sort column from a list' },
  { keys: ['r', 'I'], action: 'reverse', help: 'reverse the sort order' },
  { keys: [' ', 'p'], action: 'pause', help: 'pause the display (collection continues)', hint: 'pause' },
  { keys: ['x'], action: 'toggleExited', help: 'show / hide exited processes' },
  { keys: ['t'], action: 'toggleTree', help: 'tree view by parent' },
  { keys: ['z'], action: 'fold', help: 'fold noise on/off: start-up helpers (pyenv shims) and sh -c wrappers, repeated log lines as xN' },
  { keys: ['w'], action: 'snapshotPrompt', help: 'save the table as shown (.json .csv .txt)', hint: 'save' },
  { keys: ['up'], action: 'up', help: 'move / scroll (table or log, whichever has focus)' },
  { keys: ['down'], action: 'down', help: 'move / scroll (table or log, whichever has focus)' },
  { keys: ['pageup'], action: 'pageUp', help: 'page up / down' },
  { keys: ['pagedown'], action: 'pageDown', help: 'page up / down' },
  { keys: ['home'], action: 'home', help: 'first / last' },
  { keys: ['end'], action: 'end', help: 'first / last' },
  { keys: ['tab'], action: 'switchFocus', help: 'switch focus: table / event log', hint: 'focus' },
  { keys: ['enter'], action: 'details', help: 'details of the selected process', hint: 'details' },
  { keys: ['k', 'f9'], action: 'kill', help: 'send a signal to the selected process (after a confirmation; never to a reused pid)', hint: 'kill' },
  { keys: ['g'], action: 'chart', help: 'rate history: forks/execs/exits per second over 10 minutes (g or Esc: back)', hint: 'graph' },
  { keys: ['?', 'f1'], action: 'help', help: 'this help', hint: 'help' },
  { keys: ['C-z'], action: 'suspend', help: 'suspend to the shell (fg resumes)' },
  { keys: ['q', 'f10', 'C-c'], action: 'quit', help: 'quit', hint: 'quit' },
];

const KEY_TO_ACTION = new Map<string, ActionName>(
  KEY_TABLE.flatMap((b) => b.keys.map((k) => [k, b.action] as [string, ActionName])),
);

export function actionForKey(id: string): ActionName | undefined {
  return KEY_TO_ACTION.get(id);
}

const KEY_LABELS: Record<string, string> = {
  ' ': 'Space', 'C-c': 'Ctrl-C', 'C-z': 'Ctrl-Z', up: 'Up', down: 'Down', pageup: 'PgUp', pagedown: 'PgDn',
  home: 'Home', end: 'End', tab: 'Tab', enter: 'Enter', f1: 'F1', f6: 'F6', f9: 'F9', f10: 'F10',
};

export function keyLabel(id: string): string {
  return KEY_LABELS[id] ?? id;
}

/** Help lines generated from KEY_TABLE; consecutive bindings with the same text share a line. */
export function helpEntries(): { keys: string; help: string }[] {
  const out: { keys: string; help: string }[] = [];
  for (const b of KEY_TABLE) {
    const keys = b.keys.map(keyLabel).join(' ');
    const last = out[out.length - 1];
    if (last && last.help === b.help) last.keys += ' ' + keys;
    else out.push({ keys, help: b.help });
  }
  return out;
}

/** Shape of blessed's keypress `key` argument that we rely on. */
export interface KeyInfo {
  full?: string;
  name?: string;
  ctrl?: boolean;
  meta?: boolean;
}

/**
 * One identifier per key press: the printable character itself (`<`, `I`, ` `) or blessed's name
 * (`up`, `f6`, `C-c`). `return` is dropped because blessed emits `enter` for the same CR.
 */
export function keyId(ch: string | undefined, key: KeyInfo | undefined): string {
  if (key?.ctrl || key?.meta) return key.full ?? '';
  if (ch !== undefined && ch.length === 1 && ch >= ' ' && ch !== '\x7f') return ch;
  const full = key?.full ?? key?.name ?? '';
  if (full === 'return') return '';
  if (full === 'linefeed') return 'enter';
  return full;
}

export type Effect =
  | { kind: 'setFilter'; spec: FilterSpec }
  | { kind: 'setUnits'; units: string[] | null }
  | { kind: 'snapshot'; path: string }
  | { kind: 'signal'; target: SignalTarget; signal: SignalName }
  | { kind: 'interrupt' }
  | { kind: 'suspend' }
  | { kind: 'quit'; code: number };

/** What an action needs of a displayed row (the model's rows have all of it). */
export interface ActionRow {
  key: string;
  pid?: number; start?: number; comm?: string; args?: string[]; state?: string;
}

export interface ActionContext {
  now: number;
  /** The session's current kernel filter. */
  filter: FilterSpec;
  /** Rows currently displayed (live view or the paused frame). */
  rows: readonly ActionRow[];
  /** Why signals cannot be sent at all (a replay), or absent when they can. */
  signalsDisabled?: string;
  /** Launch mode: COMMAND still runs, so Ctrl-C goes to it first. */
  commandRunning?: boolean;
  tablePage: number;
  logCount: number;
  /** 0 when the log pane is hidden (small terminal). */
  logPage: number;
  overlayLines: number;
  overlayPage: number;
  /** Directory relative snapshot names resolve against. */
  snapshotDir: string;
}

export interface Outcome {
  state: ViewState;
  redraw: number;
  effects: Effect[];
}

const PROMPT_MAX = 512;

const done = (state: ViewState, redraw: number, effects: Effect[] = []): Outcome => ({ state, redraw, effects });

/** Dispatch a key: an open prompt gets it first, then an overlay, then the key table. */
export function handleKey(s: ViewState, id: string, ch: string | undefined, ctx: ActionContext): Outcome {
  if (id === 'C-c') {
    // As a shell does: the first Ctrl-C goes to the command lifetop launched, the next one quits.
    if (ctx.commandRunning && !s.interruptSent) {
      const msg = 'Ctrl-C sent SIGINT to the command (Ctrl-C again quits)';
      return done({ ...s, interruptSent: true, message: msg, messageIsError: false }, Redraw.STATUS, [{ kind: 'interrupt' }]);
    }
    return done(s, Redraw.NONE, [{ kind: 'quit', code: 0 }]);
  }
  if (id === 'C-z') return done(s, Redraw.NONE, [{ kind: 'suspend' }]); // as in any terminal program, even in a prompt
  if (s.prompt) return promptKey(s, id, ch, ctx);
  if (s.overlay === 'sortPicker') return pickerKey(s, id);
  if (s.overlay === 'signalMenu') return signalMenuKey(s, id);
  if (s.overlay === 'signalConfirm') return signalConfirmKey(s, id);
  if (s.overlay !== 'none') return overlayKey(s, id, ctx);
  if (s.chart && id === 'escape') return done({ ...s, chart: false }, Redraw.ALL);
  const action = actionForKey(id);
  return action ? runAction(s, action, ctx) : done(s, Redraw.NONE);
}

function openPrompt(s: ViewState, kind: PromptKind, text: string): Outcome {
  return done({ ...s, prompt: { kind, text, error: '' } }, Redraw.PROMPT);
}

export function runAction(s: ViewState, action: ActionName, ctx: ActionContext): Outcome {
  switch (action) {
    case 'filterPrompt': return openPrompt(s, 'filter', formatFilter(ctx.filter.patterns));
    case 'unitPrompt': return openPrompt(s, 'unit', formatFilter(s.units ?? []));
    case 'searchPrompt': return openPrompt(s, 'search', s.query);
    case 'snapshotPrompt':
      return openPrompt(s, 'snapshot', `lifetop-${formatDate(ctx.now, 'yyyyMMdd-HHmmss')}.json`);
    case 'toggleAll': return toggleAll(s, ctx);
    case 'toggleChildren': {
      const spec = { patterns: ctx.filter.patterns, followChildren: !ctx.filter.followChildren };
      const msg = `follow children ${spec.followChildren ? 'on' : 'off'}`;
      return done({ ...s, message: msg, messageIsError: false }, Redraw.STATUS, [{ kind: 'setFilter', spec }]);
    }
    case 'sortPrev': return sortBy(s, stepColumn(s, -1));
    case 'sortNext': return sortBy(s, stepColumn(s, 1));
    case 'sortPicker':
      return done({ ...s, overlay: 'sortPicker', sortPick: Math.max(0, SORT_COLUMNS.indexOf(s.sort.column)) }, Redraw.OVERLAY);
    case 'reverse':
      return done({ ...s, sort: { ...s.sort, descending: !s.sort.descending } }, Redraw.TABLE | Redraw.STATUS);
    case 'pause': return done({ ...s, paused: !s.paused }, Redraw.ALL);
    case 'toggleExited': return done({ ...s, showExited: !s.showExited }, Redraw.TABLE | Redraw.STATUS);
    case 'toggleTree': return done({ ...s, tree: !s.tree }, Redraw.TABLE | Redraw.STATUS);
    case 'switchFocus':
      if (ctx.logPage <= 0) return done({ ...s, focus: 'table' }, Redraw.NONE);
      return done({ ...s, focus: s.focus === 'table' ? 'log' : 'table' }, Redraw.TABLE | Redraw.LOG);
    case 'details': {
      const row = s.focus === 'table' ? ctx.rows[s.selected] : undefined;
      if (!row) return done(s, Redraw.NONE);
      return done({ ...s, overlay: 'details', detailsKey: row.key, overlayScroll: 0 }, Redraw.OVERLAY);
    }
    case 'kill': return openSignalMenu(s, ctx);
    case 'chart': return done({ ...s, chart: !s.chart }, Redraw.ALL);
    case 'fold': {
      const fold = !s.fold;
      const msg = fold ? 'folding start-up helpers and repeats (z: show all)' : 'showing every process and event (z: fold)';
      return done({ ...s, fold, logScroll: 0, message: msg, messageIsError: false }, Redraw.ALL);
    }
    case 'help': return done({ ...s, overlay: 'help', overlayScroll: 0 }, Redraw.OVERLAY);
    case 'suspend': return done(s, Redraw.NONE, [{ kind: 'suspend' }]);
    case 'quit': return done(s, Redraw.NONE, [{ kind: 'quit', code: 0 }]);
    default: return navigate(s, action, ctx);
  }
}

function toggleAll(s: ViewState, ctx: ActionContext): Outcome {
  const isAll = ctx.filter.patterns.length === 1 && ctx.filter.patterns[0] === '*';
  const patterns = isAll ? (s.patternsBeforeAll ?? parseFilter(DEFAULT_FILTER)) : ['*'];
  const next: ViewState = {
    ...s,
    patternsBeforeAll: isAll ? null : ctx.filter.patterns.slice(),
    message: isAll ? `filter ${formatFilter(patterns)}` : 'tracing all processes (a: back)',
    messageIsError: false,
  };
  return done(next, Redraw.STATUS, [{ kind: 'setFilter', spec: { patterns, followChildren: ctx.filter.followChildren } }]);
}

function stepColumn(s: ViewState, delta: number): (typeof SORT_COLUMNS)[number] {
  const i = SORT_COLUMNS.indexOf(s.sort.column);
  const n = SORT_COLUMNS.length;
  return SORT_COLUMNS[(((i < 0 ? 0 : i) + delta) % n + n) % n];
}

function sortBy(s: ViewState, column: (typeof SORT_COLUMNS)[number]): Outcome {
  return done({ ...s, sort: { ...s.sort, column } }, Redraw.TABLE | Redraw.STATUS);
}

/** Movement keys act on whichever pane has focus. */
function navigate(s: ViewState, action: ActionName, ctx: ActionContext): Outcome {
  if (s.focus === 'log' && ctx.logPage > 0) {
    const max = Math.max(0, ctx.logCount - ctx.logPage);
    const step = { up: 1, down: -1, pageUp: ctx.logPage, pageDown: -ctx.logPage, home: max, end: -max }[action as string] ?? 0;
    const logScroll = clamp(s.logScroll + step, 0, max);
    return done({ ...s, logScroll }, Redraw.LOG);
  }
  const count = ctx.rows.length;
  const page = Math.max(1, ctx.tablePage);
  const step = { up: -1, down: 1, pageUp: -page, pageDown: page, home: -count, end: count }[action as string] ?? 0;
  const selected = clamp(s.selected + step, 0, Math.max(0, count - 1));
  const scroll = ensureVisible(selected, s.scroll, count, page);
  return done({ ...s, selected, scroll, selectedKey: ctx.rows[selected]?.key ?? null }, Redraw.TABLE);
}

/** Help and details: movement keys scroll, anything else closes. */
function overlayKey(s: ViewState, id: string, ctx: ActionContext): Outcome {
  const page = Math.max(1, ctx.overlayPage);
  const max = Math.max(0, ctx.overlayLines - page);
  const step = { up: -1, down: 1, pageup: -page, pagedown: page, home: -max, end: max }[id];
  if (step !== undefined) {
    return done({ ...s, overlayScroll: clamp(s.overlayScroll + step, 0, max) }, Redraw.OVERLAY);
  }
  return done({ ...s, overlay: 'none', overlayScroll: 0, detailsKey: null }, Redraw.ALL);
}

/** How far a key moves the highlight in a menu of last + 1 entries (undefined: not a movement key). */
function menuStep(id: string, last: number): number | undefined {
  return ({ up: -1, down: 1, home: -last, end: last, pageup: -last, pagedown: last } as Record<string, number>)[id];
}

function refuse(s: ViewState, message: string): Outcome {
  return done({ ...s, message, messageIsError: true }, Redraw.STATUS);
}

/** k / F9: the menu opens on the selected row, which is pinned (pid, start) until the signal is sent. */
function openSignalMenu(s: ViewState, ctx: ActionContext): Outcome {
  if (ctx.signalsDisabled) return refuse(s, ctx.signalsDisabled);
  const row = s.focus === 'table' ? ctx.rows[s.selected] : undefined;
  if (!row || row.pid === undefined || row.start === undefined) return refuse(s, 'select a process first');
  if (row.state !== 'running') return refuse(s, `process ${row.pid} is not running: nothing to signal`);
  const target: SignalTarget = { key: row.key, pid: row.pid, start: row.start, comm: row.comm ?? '', args: row.args ?? [] };
  return done({ ...s, overlay: 'signalMenu', signalPick: 0, signalTarget: target }, Redraw.OVERLAY);
}

function closeSignal(s: ViewState, message: string): Outcome {
  return done({ ...s, overlay: 'none', signalTarget: null, message, messageIsError: false }, Redraw.ALL);
}

function signalMenuKey(s: ViewState, id: string): Outcome {
  const last = SIGNALS.length - 1;
  const step = menuStep(id, last);
  if (step !== undefined) return done({ ...s, signalPick: clamp(s.signalPick + step, 0, last) }, Redraw.OVERLAY);
  if (id === 'enter') return done({ ...s, overlay: 'signalConfirm' }, Redraw.OVERLAY);
  if (id === 'escape' || id === 'q' || id === 'k' || id === 'f9') return closeSignal(s, 'no signal sent');
  return done(s, Redraw.NONE);
}

/** y or Enter sends; anything else cancels (a stray key must never kill). */
function signalConfirmKey(s: ViewState, id: string): Outcome {
  const target = s.signalTarget;
  if (!target) return closeSignal(s, 'no signal sent');
  if (id === 'y' || id === 'Y' || id === 'enter') {
    const closed = { ...s, overlay: 'none' as const, signalTarget: null };
    return done(closed, Redraw.ALL, [{ kind: 'signal', target, signal: SIGNALS[s.signalPick] }]);
  }
  return closeSignal(s, 'no signal sent');
}

function pickerKey(s: ViewState, id: string): Outcome {
  const last = SORT_COLUMNS.length - 1;
  const step = menuStep(id, last);
  if (step !== undefined) return done({ ...s, sortPick: clamp(s.sortPick + step, 0, last) }, Redraw.OVERLAY);
  if (id === 'enter') {
    const next = { ...s, overlay: 'none' as const, sort: { ...s.sort, column: SORT_COLUMNS[s.sortPick] } };
    return done(next, Redraw.ALL);
  }
  if (id === 'escape' || id === 'q' || id === 'f6') return done({ ...s, overlay: 'none' }, Redraw.ALL);
  return done(s, Redraw.NONE);
}

/** The single-line prompt: printable keys edit, Enter submits, Esc cancels. Search applies live. */
function promptKey(s: ViewState, id: string, ch: string | undefined, ctx: ActionContext): Outcome {
  const p = s.prompt!;
  if (id === 'escape') {
    const query = p.kind === 'search' ? '' : s.query;
    return done({ ...s, prompt: null, query }, Redraw.ALL);
  }
  if (id === 'enter') return submitPrompt(s, ctx);
  let text = p.text;
  if (id === 'backspace') text = text.slice(0, -1);
  else if (id === 'C-u') text = '';
  else if (ch !== undefined && id === ch && text.length < PROMPT_MAX) text += ch;
  else return done(s, Redraw.NONE);
  const next: ViewState = { ...s, prompt: { ...p, text, error: '' } };
  if (p.kind === 'search') return done({ ...next, query: text }, Redraw.PROMPT | Redraw.TABLE | Redraw.STATUS);
  return done(next, Redraw.PROMPT);
}

function submitPrompt(s: ViewState, ctx: ActionContext): Outcome {
  const p = s.prompt!;
  const closed: ViewState = { ...s, prompt: null };
  if (p.kind === 'search') return done(closed, Redraw.ALL);
  if (p.kind === 'filter') {
    try {
      const patterns = parseFilter(p.text);
      const spec = { patterns, followChildren: ctx.filter.followChildren };
      const msg = `filter ${formatFilter(patterns)}`;
      return done({ ...closed, message: msg, messageIsError: false, patternsBeforeAll: null }, Redraw.ALL, [{ kind: 'setFilter', spec }]);
    } catch (err) {
      return done({ ...s, prompt: { ...p, error: errorLine(err) } }, Redraw.PROMPT);
    }
  }
  if (p.kind === 'unit') {
    try {
      const units = parseUnitFilter(p.text);
      const msg = units ? `units ${formatFilter(units)}` : 'all units';
      return done({ ...closed, units, message: msg, messageIsError: false }, Redraw.ALL, [{ kind: 'setUnits', units }]);
    } catch (err) {
      return done({ ...s, prompt: { ...p, error: errorLine(err) } }, Redraw.PROMPT);
    }
  }
  const name = p.text.trim();
  if (name === '') return done({ ...s, prompt: { ...p, error: 'enter a file name (.json, .csv or .txt)' } }, Redraw.PROMPT);
  const target = path.resolve(ctx.snapshotDir, name);
  return done({ ...closed, message: `saving ${target}`, messageIsError: false }, Redraw.ALL, [{ kind: 'snapshot', path: target }]);
}

export function errorLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0];
}
