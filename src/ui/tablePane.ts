// Process table pane: builds the text of only the visible window of rows (never hands blessed the whole
// table, so 50 000 rows scroll as fast as 50). Columns that do not fit are dropped by priority.

import type { ProcessRow, SortColumn, SortSpec } from '../model/processTable';
import { clockText, formatAge, formatCpu, formatKb, rowAgeMs, stateText } from '../core/format';
import { fit } from '../core/sanitize';
import { line } from './text';
import type { Style, Theme } from './theme';

export interface Column {
  id: string;
  title: string;
  width: number;
  align: 'left' | 'right';
  sort: SortColumn;
  cell(row: ProcessRow, now: number, theme: Theme, depth: number): string;
}

/** Rows whose first sighting is this recent are highlighted as new. */
export const NEW_ROW_MS = 2000;
const LABEL_MIN = 20;
const MAX_INDENT = 8;
/** Dropped first when the terminal is narrow: the unit, resource columns, then the redundant start time. */
const DROP_ORDER = ['unit', 'rss', 'cpu', 'started', 'user', 'ppid', 'age'];

function labelCell(row: ProcessRow, theme: Theme, nesting: number): string {
  const text = row.label || row.args.join(' ') || row.comm;
  const depth = Math.min(MAX_INDENT, nesting);
  return depth > 0 ? '  '.repeat(depth - 1) + theme.glyphs.tree + text : text;
}

const ALL_COLUMNS: Column[] = [
  { id: 'pid', title: 'PID', width: 7, align: 'right', sort: 'pid', cell: (r) => String(r.pid) },
  { id: 'ppid', title: 'PPID', width: 7, align: 'right', sort: 'ppid', cell: (r) => String(r.ppid) },
  { id: 'user', title: 'USER', width: 8, align: 'left', sort: 'user', cell: (r) => r.user },
  { id: 'comm', title: 'COMM', width: 15, align: 'left', sort: 'comm', cell: (r) => r.comm },
  { id: 'label', title: 'LABEL/ARGS', width: 0, align: 'left', sort: 'label', cell: (r, _n, t, d) => labelCell(r, t, d) },
  { id: 'started', title: 'STARTED', width: 8, align: 'left', sort: 'started', cell: (r) => clockText(r.startedAt) },
  { id: 'age', title: 'AGE', width: 6, align: 'right', sort: 'age', cell: (r, now) => formatAge(rowAgeMs(r, now)) },
  { id: 'cpu', title: 'CPU%', width: 5, align: 'right', sort: 'cpu', cell: (r) => formatCpu(r.cpuPct) },
  { id: 'rss', title: 'RSS', width: 6, align: 'right', sort: 'rss', cell: (r) => formatKb(r.rssKb) },
  { id: 'unit', title: 'UNIT', width: 14, align: 'left', sort: 'unit', cell: (r) => r.unit },
  { id: 'state', title: 'STATE', width: 10, align: 'left', sort: 'state', cell: (r) => stateText(r) },
];

/** Columns for a terminal width; the LABEL/ARGS column takes whatever is left. */
export function tableColumns(width: number): Column[] {
  let cols = ALL_COLUMNS.slice();
  const used = (cs: Column[]): number => cs.reduce((sum, c) => sum + c.width, 0) + cs.length - 1;
  for (const id of DROP_ORDER) {
    if (used(cols) + LABEL_MIN <= width) break;
    cols = cols.filter((c) => c.id !== id);
  }
  const labelWidth = Math.max(1, width - used(cols));
  return cols.map((c) => (c.id === 'label' ? { ...c, width: labelWidth } : c));
}

export interface TableView {
  /** Nesting of a row in a tree view (none: a flat view). */
  depthOf?: (row: ProcessRow) => number;
  selected: number;
  scroll: number;
  sort: SortSpec;
  focused: boolean;
  /** Shown instead of rows when there are none (e.g. what the filter is). */
  emptyText: string;
}

function headerText(cols: Column[], sort: SortSpec, theme: Theme): string {
  const arrow = sort.descending ? theme.glyphs.sortDown : theme.glyphs.sortUp;
  return cols.map((c) => fit(c.sort === sort.column ? c.title + arrow : c.title, c.width, c.align)).join(' ');
}

function rowStyle(row: ProcessRow, isSelected: boolean, focused: boolean, now: number): Style | undefined {
  if (isSelected) return focused ? 'selected' : 'selectedBlur';
  if (row.state === 'lost') return 'lost';
  if (row.state === 'exited') return row.signal || row.exitCode ? 'failed' : 'exited';
  if (now - row.firstSeenAt < NEW_ROW_MS) return 'new';
  return undefined;
}

/** Header plus the visible slice of `rows`, `height` lines of exactly `width` cells. */
export function renderTable(
  rows: readonly ProcessRow[], v: TableView, width: number, height: number, theme: Theme, now: number,
): string {
  const cols = tableColumns(width);
  const out = [line([{ text: headerText(cols, v.sort, theme), style: 'header' }], width, theme)];
  const visible = Math.max(0, height - 1);
  if (rows.length === 0 && visible > 0) out.push(line([{ text: ' ' + v.emptyText }], width, theme));
  const end = Math.min(rows.length, v.scroll + visible);
  for (let i = Math.max(0, v.scroll); i < end; i++) {
    const row = rows[i];
    const depth = v.depthOf?.(row) ?? 0;
    const text = cols.map((c) => fit(c.cell(row, now, theme, depth), c.width, c.align)).join(' ');
    out.push(line([{ text, style: rowStyle(row, i === v.selected, v.focused, now) }], width, theme));
  }
  return out.join('\n');
}
