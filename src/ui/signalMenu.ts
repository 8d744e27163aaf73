// k / F9 overlays: the signal menu (TERM preselected) and the confirmation naming the pinned
// target's pid, comm and args. Untrusted comm and args are cleaned by text.line like every pane.

import { SIGNALS } from './actions';
import { wrap, type Segment } from './text';
import type { ViewState } from './viewState';

export function signalMenuBody(s: ViewState): Segment[][] {
  const t = s.signalTarget;
  const head: Segment[][] = t ? [[{ text: `to ${t.pid} ` }, { text: t.comm, style: 'key' }], []] : [];
  return [
    ...head,
    ...SIGNALS.map((sig, i): Segment[] => [{ text: (i === s.signalPick ? '> ' : '  ') + sig, style: i === s.signalPick ? 'selected' : undefined }]),
    [],
    [{ text: 'Enter choose  Esc cancel' }],
  ];
}

export function signalConfirmBody(s: ViewState, width: number): Segment[][] {
  const t = s.signalTarget;
  if (!t) return [];
  const sig = SIGNALS[s.signalPick];
  const args = t.args.length > 0 ? t.args.join(' ') : '(no args)';
  return [
    [{ text: 'Send ' }, { text: sig, style: 'alert' }, { text: ' to' }],
    [{ text: 'pid   ', style: 'key' }, { text: String(t.pid) }],
    [{ text: 'comm  ', style: 'key' }, { text: t.comm }],
    ...wrap(args, Math.max(1, width - 6)).map((part, i): Segment[] => [{ text: i === 0 ? 'args  ' : '      ', style: 'key' }, { text: part }]),
    [],
    [{ text: 'y/Enter send   any other key cancels' }],
  ];
}
