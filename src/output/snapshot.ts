// Snapshot writers: the process table as JSON, CSV or aligned text (by file extension),
// written atomically and never through a symlink at the target.

import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { ProcessRow, SortSpec } from '../model/processTable';
// The text snapshot is the table "as on screen": the same cell formatters and sanitizer
// as the UI (both pure, neither loads blessed).
import { formatAge, formatCpu, formatDate, rowAgeMs, stateText } from '../core/format';
import { killedByText, rowReason } from '../core/exitReason';
import { clean } from '../core/sanitize';
import { quote, quotePath } from '../core/quote';
import { escapeInvisible } from '../core/ndjson';

/** node:crypto costs ~3 ms to load: only a snapshot's temp name needs it, so it loads then. */
function tempSuffix(): string {
  return (require('node:crypto') as typeof import('node:crypto')).randomBytes(6).toString('hex');
}

export interface SnapshotMeta {
  takenAt: number; filter: string; sort: SortSpec;
  /** Events seen, lost per stage, rows inferred: how far to trust the table. */
  counters?: Record<string, number>;
}
export type SnapshotFormat = 'json' | 'csv' | 'txt';

export class SnapshotError extends Error {
  override name = 'SnapshotError';
}

// New columns go last: a reader that counts columns keeps working.
const CSV_HEADER = ['pid', 'ppid', 'uid', 'user', 'comm', 'args', 'label', 'started_at', 'age_s', 'state',
  'exit_code', 'signal', 'cpu_pct', 'rss_kb', 'origin', 'exit_from', 'reason', 'killed_by', 'oom_rss_kb', 'cgroup', 'unit'];
const TEXT_LABEL_MAX = 60;
const UNIT_MAX = 40;

export function snapshotJson(rows: readonly ProcessRow[], meta: SnapshotMeta, now: number): string {
  const doc = {
    taken_at: new Date(meta.takenAt).toISOString(),
    filter: meta.filter,
    sort: { column: meta.sort.column, descending: meta.sort.descending },
    counters: meta.counters ?? {},
    processes: rows.map((r) => ({
      pid: r.pid, ppid: r.ppid, uid: r.uid, user: r.user, comm: r.comm, args: r.args, label: r.label,
      started_at: new Date(r.startedAt).toISOString(), age_s: ageSeconds(r, now), state: r.state,
      exit_code: r.exitCode, signal: r.signal, reason: rowReason(r),
      killed_by: r.killedBy ? { pid: r.killedBy.pid, comm: r.killedBy.comm, uid: r.killedBy.uid, kernel: r.killedBy.kernel } : null,
      oom_rss_kb: r.oomRssKb ?? null, cpu_pct: r.cpuPct, rss_kb: r.rssKb,
      origin: origin(r), exit_from: exitFrom(r), cgroup: r.cgroup, unit: r.unit,
    })),
  };
  return escapeInvisible(JSON.stringify(doc, null, 2)) + '\n';
}

/** How lifetop knows a row: from its exec/fork event, or inferred from /proc. */
function origin(r: ProcessRow): 'event' | 'seeded' | 'recovered' {
  return r.seeded ? 'seeded' : r.recovered ? 'recovered' : 'event';
}

/** Who reported the end: the kernel, /proc (a zombie's status), or nobody (lost); null while running. */
function exitFrom(r: ProcessRow): 'kernel' | 'proc' | 'lost' | null {
  if (r.state === 'running') return null;
  return r.state === 'lost' ? 'lost' : r.exitFromProc ? 'proc' : 'kernel';
}

/** The trailer of CSV and text snapshots: one comment line with the counters (README: Formats). */
function trailer(meta: SnapshotMeta | undefined): string {
  if (!meta) return '';
  const counters = Object.entries(meta.counters ?? {}).map(([k, v]) => `${k}=${v}`).join(' ');
  return `# lifetop snapshot taken_at=${new Date(meta.takenAt).toISOString()} ${counters}`.trimEnd();
}

/** RFC 4180 with CRLF line ends; every text cell is written by csvText (README: Formats). */
export function snapshotCsv(rows: readonly ProcessRow[], now: number, meta?: SnapshotMeta): string {
  const lines = [CSV_HEADER.join(',')];
  for (const r of rows) {
    const fields = [r.pid, r.ppid, r.uid, r.user, r.comm, r.args.join(' '), r.label,
      new Date(r.startedAt).toISOString(), ageSeconds(r, now), r.state, r.exitCode, r.signal, r.cpuPct, r.rssKb,
      origin(r), exitFrom(r), rowReason(r), killedByText(r.killedBy ?? null), r.oomRssKb ?? null, r.cgroup, r.unit];
    lines.push(fields.map(csvField).join(','));
  }
  if (meta) lines.push(trailer(meta));
  return lines.join('\r\n') + '\r\n';
}

/*
 * CSV cells. Data stays data, yet the file is safe to `cat` and to open in a spreadsheet.
 * Numeric cells (pid, ppid, uid, age_s, exit_code, signal, oom_rss_kb, cpu_pct, rss_kb) are plain
 * numbers, `-1` included, and null is an empty cell. killed_by is `comm[pid] uid N` (the sender's
 * comm is untrusted like any comm), `kernel`, or empty. Text cells (user, comm, args, label,
 * started_at, state, reason, killed_by, origin, exit_from, cgroup, unit) go through three steps, in this order:
 *  1. Escapes, so no character can drive a terminal or reorder what it shows. Every backslash
 *     in a text cell starts one of these, so reading them back is unambiguous:
 *       \                                   -> \\
 *       U+0000-U+001F but tab, LF and CR,
 *       U+007F-U+009F (DEL, C1)             -> \xNN    (2 lowercase hex digits)
 *       U+2028, U+2029, and the bidi controls
 *       U+061C, U+200E, U+200F, U+202A-U+202E,
 *       U+2066-U+2069                       -> \uNNNN  (4 lowercase hex digits)
 *     Tab, LF and CR are kept as they are (step 3 quotes the cell).
 *  2. Formula guard (OWASP, CSV injection): a cell starting with = + - @ tab or CR gets a
 *     single quote ' in front, so a spreadsheet shows it as text instead of evaluating it.
 *     A cell starting with ' gets one too, so dropping one leading ' always gives the value.
 *  3. RFC 4180: a cell holding a comma, double quote, CR, LF, tab or semicolon is enclosed in
 *     double quotes, with double quotes doubled; the ' of step 2 is inside them. Semicolon and
 *     tab are other locales' separators: quoted, they cannot start a cell (with a formula) there.
 */
const CSV_ESCAPE = /[\\\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;
const CSV_FORMULA = /^[=+\-@\t\r']/;
const CSV_QUOTE = /[",;\t\r\n]/;

function csvField(value: string | number | null): string {
  if (value === null) return '';
  return typeof value === 'number' ? String(value) : csvText(value);
}

function csvText(value: string): string {
  let s = value.replace(CSV_ESCAPE, (ch) => {
    const cp = ch.charCodeAt(0);
    if (ch === '\\') return '\\\\';
    return cp <= 0xff ? '\\x' + cp.toString(16).padStart(2, '0') : '\\u' + cp.toString(16).padStart(4, '0');
  });
  if (CSV_FORMULA.test(s)) s = "'" + s;
  return CSV_QUOTE.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Aligned columns for people; control characters appear as \xNN so the file is safe to cat. */
export function snapshotText(rows: readonly ProcessRow[], now: number, meta?: SnapshotMeta): string {
  const header = ['PID', 'PPID', 'USER', 'COMM', 'LABEL', 'STARTED', 'AGE', 'CPU%', 'RSS', 'UNIT', 'STATE'];
  const rightAligned = new Set(['PID', 'PPID', 'AGE', 'CPU%', 'RSS']);
  const table = [header, ...rows.map((r) => [
    String(r.pid), String(r.ppid), clean(r.user), clean(r.comm), shorten(clean(r.label), TEXT_LABEL_MAX),
    startedText(r.startedAt, now), formatAge(rowAgeMs(r, now)), formatCpu(r.cpuPct),
    r.rssKb === null ? '-' : String(r.rssKb), r.unit === '' ? '-' : shorten(clean(r.unit), UNIT_MAX), stateText(r),
  ])];
  const widths = header.map((_, col) => Math.max(...table.map((line) => line[col].length)));
  const lines = table.map((line) => line
    .map((cell, col) => (rightAligned.has(header[col]) ? cell.padStart(widths[col]) : cell.padEnd(widths[col])))
    .join('  ')
    .trimEnd());
  if (meta) lines.push(trailer(meta));
  return lines.join('\n') + '\n';
}

function shorten(s: string, max: number): string {
  return s.length > max ? s.slice(0, max - 3) + '...' : s;
}

/** Seconds it has run, or lived if it ended: the AGE column, to the millisecond. */
function ageSeconds(r: ProcessRow, now: number): number {
  return Math.round(rowAgeMs(r, now)) / 1000;
}

/** ps-style: time of day when it started today, the date otherwise. */
function startedText(startedAt: number, now: number): string {
  const sameDay = formatDate(startedAt, 'yyyyMMdd') === formatDate(now, 'yyyyMMdd');
  return formatDate(startedAt, sameDay ? 'HH:mm:ss' : 'yyyy-MM-dd');
}

export function formatFor(file: string): SnapshotFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.json' || ext === '.csv' || ext === '.txt') return ext.slice(1) as SnapshotFormat;
  throw new SnapshotError(`unknown snapshot format ${quote(ext || path.basename(file))}: use .json, .csv or .txt`);
}

function render(fmt: SnapshotFormat, rows: readonly ProcessRow[], meta: SnapshotMeta, now: number): string {
  if (fmt === 'json') return snapshotJson(rows, meta, now);
  return fmt === 'csv' ? snapshotCsv(rows, now, meta) : snapshotText(rows, now, meta);
}

/** Writes atomically (temp file in the same directory, fsync, rename); returns the absolute path. */
export async function writeSnapshot(file: string, rows: readonly ProcessRow[], meta: SnapshotMeta, now: number): Promise<string> {
  const content = render(formatFor(file), rows, meta, now);
  const target = path.resolve(file);
  await checkTarget(target);
  const dir = path.dirname(target);
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${tempSuffix()}.tmp`);
  try {
    // 'wx' fails if anything, a symlink included, already sits at the temp name.
    const handle = await fsp.open(tmp, 'wx', 0o644);
    try {
      await handle.writeFile(content, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    // rename replaces a symlink created after checkTarget instead of following it.
    await fsp.rename(tmp, target);
  } catch (err) {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw new SnapshotError(`cannot write snapshot ${quotePath(target)}: ${reason(err, dir)}`);
  }
  return target;
}

async function checkTarget(target: string): Promise<void> {
  const dir = path.dirname(target);
  const dirStat = await fsp.stat(dir).catch((err: NodeJS.ErrnoException) => {
    throw new SnapshotError(`cannot write snapshot ${quotePath(target)}: ${reason(err, dir)}`);
  });
  if (!dirStat.isDirectory()) throw new SnapshotError(`cannot write snapshot ${quotePath(target)}: ${quotePath(dir)} is not a directory`);
  const existing = await fsp.lstat(target).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw new SnapshotError(`cannot write snapshot ${quotePath(target)}: ${reason(err, dir)}`);
  });
  if (existing?.isSymbolicLink()) throw new SnapshotError(`refusing to write snapshot ${quotePath(target)}: it is a symlink`);
  if (existing?.isDirectory()) throw new SnapshotError(`cannot write snapshot ${quotePath(target)}: it is a directory`);
}

function reason(err: unknown, dir: string): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOENT': return `directory ${quotePath(dir)} does not exist`;
    case 'ENOTDIR': return `a component of ${quotePath(dir)} is not a directory`;
    case 'EACCES':
    case 'EPERM': return `no permission to write in ${quotePath(dir)}`;
    case 'EROFS': return `${quotePath(dir)} is on a read-only file system`;
    case 'ENOSPC': return `no space left on the device of ${quotePath(dir)}`;
    default: return quote((e.message ?? String(err)).split('\n')[0]).slice(1, -1); // escaped, without the quotes
  }
}
