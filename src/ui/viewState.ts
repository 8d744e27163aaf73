// Pure view state of the UI (what the user chose to look at), separate from model state (what happened).
// Rows, sorting and filtering live in the model; selection and scrolling are tracked here by row key.

import type { SortSpec, ViewOptions } from '../model/processTable';

export type Focus = 'table' | 'log';
export type Overlay = 'none' | 'help' | 'details' | 'sortPicker' | 'signalMenu' | 'signalConfirm';
export type PromptKind = 'filter' | 'search' | 'snapshot' | 'unit';

export interface PromptState {
  kind: PromptKind;
  text: string;
  /** Last validation error, shown inside the prompt until the user edits. */
  error: string;
}

/** The process a signal menu was opened on, pinned: the table may move, the target does not. */
export interface SignalTarget {
  key: string; pid: number; start: number; comm: string; args: string[];
}

export interface ViewState {
  sort: SortSpec;
  query: string;
  showExited: boolean;
  tree: boolean;
  paused: boolean;
  focus: Focus;
  /** Selected row index into the displayed rows, and its key so the selection follows the row on re-sort. */
  selected: number;
  selectedKey: string | null;
  /** Index of the first displayed table row. */
  scroll: number;
  /** How many log entries are hidden below the window; 0 follows the newest. */
  logScroll: number;
  overlay: Overlay;
  overlayScroll: number;
  sortPick: number;
  detailsKey: string | null;
  prompt: PromptState | null;
  /** Last message for the status bar (snapshot result, filter change, error). */
  message: string;
  messageIsError: boolean;
  /** Patterns in effect before `a` switched to tracing everything, restored by the next `a`. */
  patternsBeforeAll: string[] | null;
  /** Unit patterns shown (--unit, the `u` prompt); null: every unit. */
  units: string[] | null;
  /** The signal menu's highlighted entry (index into SIGNALS) and its pinned target. */
  signalPick: number;
  signalTarget: SignalTarget | null;
  /** The rate-history chart (g) replaces the sparklines, table and log. */
  chart: boolean;
  /** z: start-up helpers and sh -c wrappers folded out of the table, repeated log lines shown once with ×N. */
  fold: boolean;
  /** Launch mode: Ctrl-C was passed on to COMMAND once; the next one quits. */
  interruptSent: boolean;
}

export function initialViewState(): ViewState {
  return {
    sort: { column: 'started', descending: true },
    query: '',
    showExited: true,
    tree: false,
    paused: false,
    focus: 'table',
    selected: 0,
    selectedKey: null,
    scroll: 0,
    logScroll: 0,
    overlay: 'none',
    overlayScroll: 0,
    sortPick: 0,
    detailsKey: null,
    prompt: null,
    message: '',
    messageIsError: false,
    patternsBeforeAll: null,
    units: null,
    signalPick: 0,
    signalTarget: null,
    interruptSent: false,
    chart: false,
    fold: true,
  };
}

export function viewOptions(s: ViewState): ViewOptions {
  return { sort: s.sort, query: s.query, showExited: s.showExited, tree: s.tree, units: s.units, fold: s.fold };
}

/** True when the rows to display differ between two states (a paused frame is then re-captured). */
export function viewOptionsChanged(a: ViewState, b: ViewState): boolean {
  return a.sort.column !== b.sort.column || a.sort.descending !== b.sort.descending
    || a.query !== b.query || a.showExited !== b.showExited || a.tree !== b.tree || a.units !== b.units || a.fold !== b.fold;
}

export function clamp(n: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, n));
}

/** Scroll offset that keeps `selected` inside a window of `page` rows. */
export function ensureVisible(selected: number, scroll: number, count: number, page: number): number {
  const p = Math.max(1, page);
  let top = clamp(scroll, 0, Math.max(0, count - p));
  if (selected < top) top = selected;
  else if (selected >= top + p) top = selected - p + 1;
  return clamp(top, 0, Math.max(0, count - p));
}

/**
 * Re-anchor selection and scroll on freshly computed rows: the selected row keeps its selection
 * wherever it moved; if it is gone the index stays where it was (clamped), like htop.
 */
export function syncSelection(s: ViewState, rows: readonly { key: string }[], page: number): ViewState {
  let selected = s.selected;
  // At the very top the view stays pinned there, as top's does: new rows sorted above
  // must show, not push the view down. Once the user moves, the selection follows its row.
  const pinned = s.selected === 0 && s.scroll === 0;
  if (!pinned && s.selectedKey !== null && rows[selected]?.key !== s.selectedKey) {
    const found = rows.findIndex((r) => r.key === s.selectedKey);
    if (found >= 0) selected = found;
  }
  selected = clamp(selected, 0, Math.max(0, rows.length - 1));
  const selectedKey = rows[selected]?.key ?? null;
  const scroll = ensureVisible(selected, s.scroll, rows.length, page);
  if (selected === s.selected && selectedKey === s.selectedKey && scroll === s.scroll) return s;
  return { ...s, selected, selectedKey, scroll };
}
