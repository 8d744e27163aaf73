// Key → action → view state, tested without blessed: the UI's behaviour as pure functions.
import path from 'node:path';
import { format } from 'date-fns';
import { describe, expect, it } from 'vitest';
import { SORT_COLUMNS } from '../../src/model/processTable';
import {
  actionForKey, handleKey, helpEntries, KEY_TABLE, keyId, keyLabel, Redraw, SIGNALS, type ActionContext, type Outcome,
} from '../../src/ui/actions';
import { ensureVisible, initialViewState, syncSelection, type ViewState } from '../../src/ui/viewState';

const rowsOf = (n: number): { key: string }[] => Array.from({ length: n }, (_, i) => ({ key: `${1000 + i}:1` }));

function ctx(over: Partial<ActionContext> = {}): ActionContext {
  return {
    now: new Date(2024, 4, 17, 9, 8, 7).getTime(),
    filter: { patterns: ['python*', 'uvicorn*'], followChildren: true },
    rows: rowsOf(50),
    tablePage: 10,
    logCount: 100,
    logPage: 5,
    overlayLines: 30,
    overlayPage: 10,
    snapshotDir: '/tmp/snaps',
    ...over,
  };
}

/** Feed keys (ids; single printable characters double as their own `ch`). */
function press(state: ViewState, keys: string[], c: ActionContext = ctx()): Outcome {
  let out: Outcome = { state, redraw: 0, effects: [] };
  const effects = [];
  for (const k of keys) {
    out = handleKey(out.state, k, k.length === 1 ? k : undefined, c);
    effects.push(...out.effects);
  }
  return { ...out, effects };
}

const type = (text: string): string[] => [...text];

describe('keyId', () => {
  it('uses the character for printable keys and blessed names for the rest', () => {
    expect(keyId('<', undefined)).toBe('<');
    expect(keyId('I', { name: 'i', full: 'S-i' })).toBe('I');
    expect(keyId(' ', { name: 'space', full: 'space' })).toBe(' ');
    expect(keyId('\\', undefined)).toBe('\\');
    expect(keyId(undefined, { name: 'f6', full: 'f6' })).toBe('f6');
    expect(keyId('\x03', { name: 'c', full: 'C-c', ctrl: true })).toBe('C-c');
    expect(keyId('\x7f', { name: 'backspace', full: 'backspace' })).toBe('backspace');
  });

  it('turns one CR into one enter: blessed emits enter and return for it', () => {
    expect(keyId('\r', { name: 'enter', full: 'enter' })).toBe('enter');
    expect(keyId('\r', { name: 'return', full: 'return' })).toBe('');
    expect(keyId('\n', { name: 'linefeed', full: 'linefeed' })).toBe('enter');
  });
});

describe('key table', () => {
  it('binds every key once', () => {
    const keys = KEY_TABLE.flatMap((b) => b.keys);
    expect(new Set(keys).size).toBe(keys.length);
    for (const b of KEY_TABLE) for (const k of b.keys) expect(actionForKey(k)).toBe(b.action);
  });

  it('binds the documented keys', () => {
    const expected: Record<string, string> = {
      '/': 'filterPrompt', f: 'filterPrompt', '\\': 'searchPrompt', a: 'toggleAll', c: 'toggleChildren',
      '<': 'sortPrev', '>': 'sortNext', f6: 'sortPicker', r: 'reverse', I: 'reverse', ' ': 'pause', p: 'pause',
      x: 'toggleExited', t: 'toggleTree', w: 'snapshotPrompt', tab: 'switchFocus', enter: 'details',
      '?': 'help', f1: 'help', q: 'quit', f10: 'quit', 'C-c': 'quit', up: 'up', down: 'down',
      pageup: 'pageUp', pagedown: 'pageDown', home: 'home', end: 'end',
    };
    for (const [key, action] of Object.entries(expected)) expect(actionForKey(key), key).toBe(action);
  });

  it('generates help listing every key', () => {
    const text = helpEntries().map((e) => `${e.keys} ${e.help}`).join('\n');
    for (const b of KEY_TABLE) for (const k of b.keys) expect(text).toContain(keyLabel(k));
    expect(text).toContain('Ctrl-C');
    expect(text).toContain('Space');
  });
});

describe('filter prompt', () => {
  it('opens pre-filled with the current filter and applies a valid one on Enter', () => {
    let out = press(initialViewState(), ['/']);
    expect(out.state.prompt).toEqual({ kind: 'filter', text: 'python*,uvicorn*', error: '' });
    out = press(out.state, ['C-u', ...type('node,gunicorn*'), 'enter']);
    expect(out.state.prompt).toBeNull();
    expect(out.effects).toEqual([{ kind: 'setFilter', spec: { patterns: ['node', 'gunicorn*'], followChildren: true } }]);
    expect(out.state.message).toContain('node,gunicorn*');
  });

  it('keeps the prompt open with the error and no effect when the filter is invalid', () => {
    const out = press(initialViewState(), ['f', 'C-u', ...type('py*thon'), 'enter']);
    expect(out.effects).toEqual([]);
    expect(out.state.prompt?.text).toBe('py*thon');
    expect(out.state.prompt?.error).toMatch(/must be the last character/);
    const edited = press(out.state, ['backspace']);
    expect(edited.state.prompt?.error).toBe('');
    expect(edited.state.prompt?.text).toBe('py*tho');
  });

  it('cancels on Escape without touching the filter', () => {
    const out = press(initialViewState(), ['/', ...type('x'), 'escape']);
    expect(out.state.prompt).toBeNull();
    expect(out.effects).toEqual([]);
  });

  it('treats action keys as text while open', () => {
    const out = press(initialViewState(), ['/', 'C-u', ...type('q w')]);
    expect(out.effects).toEqual([]);
    expect(out.state.prompt?.text).toBe('q w');
  });

  it('still quits on Ctrl-C while open', () => {
    expect(press(initialViewState(), ['/', 'C-c']).effects).toEqual([{ kind: 'quit', code: 0 }]);
  });
});

describe('display search', () => {
  it('narrows live while typing, keeps the query on Enter and clears it on Escape', () => {
    let out = press(initialViewState(), ['\\', ...type('uvi')]);
    expect(out.state.query).toBe('uvi');
    expect(out.redraw & Redraw.TABLE).toBeTruthy();
    out = press(out.state, ['enter']);
    expect(out.state.prompt).toBeNull();
    expect(out.state.query).toBe('uvi');
    out = press(out.state, ['\\']);
    expect(out.state.prompt?.text).toBe('uvi');
    out = press(out.state, ['escape']);
    expect(out.state.query).toBe('');
  });
});

describe('kernel filter toggles', () => {
  it('a switches to * and back to the filter it replaced', () => {
    const first = press(initialViewState(), ['a']);
    expect(first.effects).toEqual([{ kind: 'setFilter', spec: { patterns: ['*'], followChildren: true } }]);
    const all = ctx({ filter: { patterns: ['*'], followChildren: true } });
    const back = press(first.state, ['a'], all);
    expect(back.effects).toEqual([{ kind: 'setFilter', spec: { patterns: ['python*', 'uvicorn*'], followChildren: true } }]);
  });

  it('a from * with nothing to go back to restores the default filter', () => {
    const all = ctx({ filter: { patterns: ['*'], followChildren: false } });
    const out = press(initialViewState(), ['a'], all);
    expect(out.effects).toEqual([{ kind: 'setFilter', spec: { patterns: ['python*', 'uvicorn*'], followChildren: false } }]);
  });

  it('c flips following children and keeps the patterns', () => {
    const out = press(initialViewState(), ['c']);
    expect(out.effects).toEqual([{ kind: 'setFilter', spec: { patterns: ['python*', 'uvicorn*'], followChildren: false } }]);
    expect(out.state.message).toMatch(/off/);
  });
});

describe('sorting', () => {
  it('< and > step through every column and wrap around', () => {
    let s = { ...initialViewState(), sort: { column: SORT_COLUMNS[0], descending: false } };
    const seen = [];
    for (let i = 0; i < SORT_COLUMNS.length; i++) {
      s = press(s, ['>']).state;
      seen.push(s.sort.column);
    }
    expect(seen).toEqual([...SORT_COLUMNS.slice(1), SORT_COLUMNS[0]]);
    expect(press(s, ['<']).state.sort.column).toBe(SORT_COLUMNS[SORT_COLUMNS.length - 1]);
  });

  it('r and I reverse the order', () => {
    const s = initialViewState();
    expect(press(s, ['r']).state.sort.descending).toBe(!s.sort.descending);
    expect(press(s, ['r', 'I']).state.sort.descending).toBe(s.sort.descending);
  });

  it('F6 picks a column from the list; Escape leaves the sort alone', () => {
    const s = { ...initialViewState(), sort: { column: SORT_COLUMNS[0], descending: true } };
    const picked = press(s, ['f6', 'down', 'down', 'enter']).state;
    expect(picked.sort).toEqual({ column: SORT_COLUMNS[2], descending: true });
    expect(picked.overlay).toBe('none');
    expect(press(s, ['f6', 'down', 'escape']).state.sort).toEqual(s.sort);
  });
});

describe('view toggles', () => {
  it('space and p pause and resume; x and t toggle exited rows and the tree', () => {
    const s = initialViewState();
    expect(press(s, [' ']).state.paused).toBe(true);
    expect(press(s, [' ', 'p']).state.paused).toBe(false);
    expect(press(s, ['x']).state.showExited).toBe(!s.showExited);
    expect(press(s, ['t']).state.tree).toBe(!s.tree);
  });

  it('? and F1 open the help; any other key closes it; arrows scroll it within bounds', () => {
    const open = press(initialViewState(), ['?']).state;
    expect(open.overlay).toBe('help');
    expect(press(open, ['q']).effects).toEqual([]); // q closes the help, it does not quit
    expect(press(open, ['q']).state.overlay).toBe('none');
    const scrolled = press(open, Array(50).fill('down')).state;
    expect(scrolled.overlayScroll).toBe(30 - 10);
    expect(press(scrolled, ['home']).state.overlayScroll).toBe(0);
    expect(press(initialViewState(), ['f1']).state.overlay).toBe('help');
  });

  it('q, F10 and Ctrl-C quit with code 0', () => {
    for (const k of ['q', 'f10', 'C-c']) expect(press(initialViewState(), [k]).effects).toEqual([{ kind: 'quit', code: 0 }]);
  });
});

describe('snapshot prompt', () => {
  it('is pre-filled with a timestamped name and writes into the snapshot directory', () => {
    const c = ctx();
    const out = press(initialViewState(), ['w'], c);
    expect(out.state.prompt?.text).toBe(`lifetop-${format(c.now, 'yyyyMMdd-HHmmss')}.json`);
    expect(out.state.prompt?.text).toMatch(/^lifetop-\d{8}-\d{6}\.json$/);
    const saved = press(out.state, ['enter'], c);
    expect(saved.effects).toEqual([{ kind: 'snapshot', path: path.join('/tmp/snaps', out.state.prompt!.text) }]);
  });

  it('keeps absolute paths and refuses an empty name', () => {
    const abs = press(initialViewState(), ['w', 'C-u', ...type('/var/tmp/x.csv'), 'enter']);
    expect(abs.effects).toEqual([{ kind: 'snapshot', path: '/var/tmp/x.csv' }]);
    const empty = press(initialViewState(), ['w', 'C-u', 'enter']);
    expect(empty.effects).toEqual([]);
    expect(empty.state.prompt?.error).toMatch(/file name/);
  });
});

describe('navigation', () => {
  it('moves the selection within the rows and keeps it on screen', () => {
    const c = ctx();
    let s = press(initialViewState(), ['down', 'down', 'down'], c).state;
    expect(s.selected).toBe(3);
    expect(s.selectedKey).toBe('1003:1');
    s = press(s, ['pagedown', 'pagedown'], c).state;
    expect(s.selected).toBe(23);
    expect(s.scroll).toBe(23 - 10 + 1);
    s = press(s, ['end'], c).state;
    expect(s.selected).toBe(49);
    expect(s.scroll).toBe(40);
    s = press(s, ['down'], c).state;
    expect(s.selected).toBe(49);
    s = press(s, ['home', 'up'], c).state;
    expect(s.selected).toBe(0);
    expect(s.scroll).toBe(0);
  });

  it('Tab moves focus to the log, where arrows scroll back through events', () => {
    const c = ctx();
    let s = press(initialViewState(), ['tab'], c).state;
    expect(s.focus).toBe('log');
    s = press(s, ['up', 'up'], c).state;
    expect(s.logScroll).toBe(2);
    expect(s.selected).toBe(0);
    s = press(s, ['home'], c).state;
    expect(s.logScroll).toBe(100 - 5);
    s = press(s, ['end'], c).state;
    expect(s.logScroll).toBe(0);
    expect(press(s, ['tab'], c).state.focus).toBe('table');
  });

  it('Tab keeps focus on the table when the log pane is hidden', () => {
    expect(press(initialViewState(), ['tab'], ctx({ logPage: 0 })).state.focus).toBe('table');
  });

  it('Enter opens details of the selected row, and does nothing without rows', () => {
    const s = press(initialViewState(), ['down', 'down', 'enter']).state;
    expect(s.overlay).toBe('details');
    expect(s.detailsKey).toBe('1002:1');
    expect(press(initialViewState(), ['enter'], ctx({ rows: [] })).state.overlay).toBe('none');
  });
});

describe('selection follows rows', () => {
  it('keeps the selected row selected when the order changes', () => {
    const rows = rowsOf(30);
    let s = press(initialViewState(), ['down', 'down', 'down', 'down', 'down'], ctx({ rows })).state;
    expect(s.selectedKey).toBe('1005:1');
    const reversed = rows.slice().reverse();
    s = syncSelection(s, reversed, 10);
    expect(s.selected).toBe(24);
    expect(reversed[s.selected].key).toBe('1005:1');
    expect(s.scroll).toBeLessThanOrEqual(24);
    expect(s.scroll + 10).toBeGreaterThan(24);
  });

  it('stays pinned to the top when the user has not moved, so new rows sorted first show', () => {
    const rows = rowsOf(30);
    let s = syncSelection(initialViewState(), rows, 10);
    expect(s.selectedKey).toBe(rows[0].key);
    const newer = [{ key: '2000:1' }, { key: '2001:1' }, ...rows];
    s = syncSelection(s, newer, 10);
    expect(s.selected).toBe(0);
    expect(s.scroll).toBe(0);
    expect(s.selectedKey).toBe('2000:1');
  });

  it('clamps the index when the selected row disappears', () => {
    let s = press(initialViewState(), ['end'], ctx({ rows: rowsOf(20) })).state;
    s = syncSelection(s, rowsOf(5), 10);
    expect(s.selected).toBe(4);
    expect(s.selectedKey).toBe('1004:1');
    expect(syncSelection(s, [], 10).selectedKey).toBeNull();
  });

  it('ensureVisible never scrolls past the end', () => {
    expect(ensureVisible(0, 100, 20, 10)).toBe(0);
    expect(ensureVisible(19, 0, 20, 10)).toBe(10);
    expect(ensureVisible(5, 3, 4, 10)).toBe(0);
  });
});

describe('signal menu (k, F9)', () => {
  const proc = (key: string, state: string) => ({ key, pid: Number(key.split(':')[0]), start: 5e9, comm: 'python3', args: ['python3', 'x.py'], state });
  const rows = [proc('1000:1', 'running'), proc('1001:1', 'exited')];

  it('opens on the selected running row with SIGTERM preselected, pinned whatever the table does', () => {
    for (const key of ['k', 'f9']) {
      const out = press(initialViewState(), [key], ctx({ rows }));
      expect(out.state.overlay).toBe('signalMenu');
      expect(out.state.signalPick).toBe(0);
      expect(SIGNALS[out.state.signalPick]).toBe('SIGTERM');
      expect(out.state.signalTarget).toEqual({ key: '1000:1', pid: 1000, start: 5e9, comm: 'python3', args: ['python3', 'x.py'] });
    }
    // The rows change under the open menu: the target does not.
    const moved = press(press(initialViewState(), ['k'], ctx({ rows })).state, ['down', 'down', 'enter', 'y'], ctx({ rows: rows.slice(1) }));
    expect(moved.effects).toEqual([{ kind: 'signal', target: expect.objectContaining({ pid: 1000 }), signal: 'SIGHUP' }]);
  });

  it('walks the menu, then sends only on y or Enter at the confirmation', () => {
    const s = press(initialViewState(), ['k', 'down', 'down', 'down', 'enter'], ctx({ rows }));
    expect(s.state.overlay).toBe('signalConfirm');
    expect(SIGNALS[s.state.signalPick]).toBe('SIGKILL');
    expect(press(s.state, ['y'], ctx({ rows })).effects).toEqual([{ kind: 'signal', target: expect.objectContaining({ pid: 1000 }), signal: 'SIGKILL' }]);
    expect(press(s.state, ['enter'], ctx({ rows })).effects).toHaveLength(1);
    for (const other of ['n', 'escape', 'q', ' ']) {
      const cancelled = press(s.state, [other], ctx({ rows }));
      expect(cancelled.effects).toEqual([]);
      expect(cancelled.state).toMatchObject({ overlay: 'none', signalTarget: null, message: 'no signal sent' });
    }
    expect(press(initialViewState(), ['k', 'escape'], ctx({ rows })).state).toMatchObject({ overlay: 'none', signalTarget: null });
  });

  it('refuses rows that are not running, a replay, and an empty table', () => {
    const exited = press(initialViewState(), ['down', 'k'], ctx({ rows }));
    expect(exited.state).toMatchObject({ overlay: 'none', messageIsError: true, message: 'process 1001 is not running: nothing to signal' });
    const replay = press(initialViewState(), ['k'], ctx({ rows, signalsDisabled: 'signals are off in a replay' }));
    expect(replay.state).toMatchObject({ overlay: 'none', message: 'signals are off in a replay' });
    expect(press(initialViewState(), ['k'], ctx({ rows: [] })).state).toMatchObject({ overlay: 'none', message: 'select a process first' });
  });
});

describe('Ctrl-C in launch mode', () => {
  it('goes to the command first, then quits', () => {
    const first = press(initialViewState(), ['C-c'], ctx({ commandRunning: true }));
    expect(first.effects).toEqual([{ kind: 'interrupt' }]);
    expect(first.state.message).toMatch(/SIGINT to the command/);
    expect(press(first.state, ['C-c'], ctx({ commandRunning: true })).effects).toEqual([{ kind: 'quit', code: 0 }]);
    // Once the command has ended, Ctrl-C quits at once.
    expect(press(initialViewState(), ['C-c'], ctx({ commandRunning: false })).effects).toEqual([{ kind: 'quit', code: 0 }]);
  });
});
