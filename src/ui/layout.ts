// Pure screen layout: terminal size → pane rectangles. Small terminals drop the sparklines first,
// then the event log; the status bar, the table and the key hint line always stay.

export interface Rect {
  top: number;
  left: number;
  width: number;
  height: number;
}

export interface Layout {
  width: number;
  height: number;
  status: Rect;
  sparks: Rect | null;
  table: Rect;
  log: Rect | null;
  hint: Rect;
}

export const STATUS_HEIGHT = 2;
export const SPARK_HEIGHT = 3;
export const HINT_HEIGHT = 1;
/** Header + 5 rows: below that the table is not worth keeping other panes for. */
export const TABLE_MIN = 6;
export const LOG_MIN = 4;
const LOG_MAX = 12;
/** Extra table rows required before sparklines are worth their three lines (80x24 shows everything). */
const SPARK_TABLE_MIN = 8;
const SPARK_MIN_WIDTH = 50;

export function computeLayout(width: number, height: number): Layout {
  const w = Math.max(1, Math.floor(width));
  const h = Math.max(1, Math.floor(height));
  const hintH = h >= 2 ? HINT_HEIGHT : 0;
  const statusH = Math.min(STATUS_HEIGHT, Math.max(0, h - hintH - 1));
  const avail = h - statusH - hintH;

  const showLog = avail >= TABLE_MIN + LOG_MIN;
  const showSparks = showLog && w >= SPARK_MIN_WIDTH && avail >= SPARK_HEIGHT + LOG_MIN + 2 + SPARK_TABLE_MIN;
  const sparkH = showSparks ? SPARK_HEIGHT : 0;
  const logH = showLog ? Math.min(LOG_MAX, Math.max(LOG_MIN, Math.floor((avail - sparkH) * 0.35))) : 0;
  const tableH = Math.max(1, avail - sparkH - logH);

  const rect = (top: number, height: number): Rect => ({ top, left: 0, width: w, height });
  let top = 0;
  const status = rect(top, statusH);
  top += statusH;
  const sparks = showSparks ? rect(top, sparkH) : null;
  top += sparkH;
  const table = rect(top, tableH);
  top += tableH;
  const log = showLog ? rect(top, logH) : null;
  top += logH;
  return { width: w, height: h, status, sparks, table, log, hint: rect(top, hintH) };
}
