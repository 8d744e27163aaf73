// Help overlay and bottom key-hint line, both generated from the one key table in actions.ts.

import { helpEntries, KEY_TABLE, keyLabel, type ActionName } from './actions';
import { line, type Segment } from './text';
import type { Theme } from './theme';

export function helpBody(): Segment[][] {
  const body: Segment[][] = helpEntries().map((e) => [{ text: e.keys.padEnd(16), style: 'key' }, { text: e.help }]);
  body.push([]);
  body.push([{ text: 'Rows: ' }, { text: 'new', style: 'new' }, { text: ' (< 2 s)  ' },
    { text: 'exited', style: 'exited' }, { text: '  ' }, { text: 'failed', style: 'failed' },
    { text: ' (code/signal)  ' }, { text: 'lost', style: 'lost' }, { text: ' (exit unseen)' }]);
  body.push([{ text: 'Up/Down scroll this help; any other key closes it.' }]);
  return body;
}

/** Cut last on a narrow terminal: how to leave and how to learn the rest. */
const FIRST: ReadonlySet<ActionName> = new Set<ActionName>(['quit', 'help']);

/** The one-line reminder at the bottom: keys of bindings that carry a hint word. */
export function renderHint(width: number, theme: Theme): string {
  const segs: Segment[] = [];
  const ordered = [...KEY_TABLE.filter((b) => FIRST.has(b.action)).reverse(), ...KEY_TABLE.filter((b) => !FIRST.has(b.action))];
  let used = 0;
  for (const b of ordered) {
    if (!b.hint) continue;
    const key = keyLabel(b.keys[0]);
    const cells = 1 + key.length + 1 + b.hint.length + 1;
    if (used + cells > width) break; // whole items only: half a hint is noise
    segs.push({ text: ' ' }, { text: key, style: 'key' }, { text: ' ' + b.hint + ' ' });
    used += cells;
  }
  return line(segs, width, theme);
}
