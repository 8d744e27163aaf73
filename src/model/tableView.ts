// Views of the process table: search, stable sort and tree order over the model's rows.
// Rows carry no view state: the depths of the last tree view are kept here, by row.

import { rowAgeMs } from '../core/format';
import { endingOfRow, REASON_RANK, reasonOf, reasonText, SHELLS, stateText } from '../core/exitReason';
import type { KilledBy, ProcessRow } from '../core/types';
import { matchUnit } from '../core/filter';

export type SortColumn = 'pid' | 'ppid' | 'user' | 'comm' | 'label' | 'started' | 'age' | 'cpu' | 'rss' | 'unit' | 'state';
export const SORT_COLUMNS: SortColumn[] = ['pid', 'ppid', 'user', 'comm', 'label', 'started', 'age', 'cpu', 'rss', 'unit', 'state'];
export interface SortSpec { column: SortColumn; descending: boolean }
export interface ViewOptions {
  sort: SortSpec; query: string; showExited: boolean; tree?: boolean;
  /** Unit patterns (core/filter parseUnitFilter): only rows whose unit matches; null/absent: all. */
  units?: string[] | null;
  /** Hide the noise of start-up: shim helpers and `sh -c` wrappers (see foldedAway). */
  fold?: boolean;
}

/** How far up a helper's parents are searched for the process whose start-up it served. */
const FOLD_DEPTH = 12;

/**
 * STATE order: running, lost, then ended rows grouped by why (ok, code, signal, core, oom), each
 * group by exit code or signal number. Integer keys: rank * 256 + the number.
 */
function stateKey(row: ProcessRow): number {
  const e = endingOfRow(row);
  if (!e) return 0;
  const n = e.oomRssKb === null ? (e.signal || e.exitCode || 0) & 0xff : 0;
  return (1 + REASON_RANK[reasonOf(e)]) * 256 + n;
}

const depths = new WeakMap<ProcessRow, number>();

/** Nesting level of a row in the last tree view that showed it (ask only of rows of a tree view). */
export function treeDepth(row: ProcessRow): number {
  return depths.get(row) ?? 0;
}

export class RowViews {
  private last: { version: number; question: string; rows: ProcessRow[]; folded: number } | null = null;
  private readonly searchText = new WeakMap<ProcessRow, {
    comm: string; args: string[]; label: string; ended: string; killedBy: KilledBy | null; text: string;
  }>();

  constructor(private readonly parentOf: (row: ProcessRow) => ProcessRow | undefined) {}

  /**
   * An unchanged table (same `version`) asked the same question (scrolling, redraws) gets the
   * last answer again. Only AGE order moves with time (running rows age, ended ones keep their
   * lifetime), so for it the question includes the second. The array returned is the cache's own
   * (a storm's table holds tens of thousands of rows, and every copy of that size went to V8's
   * large-object space): callers read it, never modify it. `rows` is iterated more than once.
   */
  view(rows: () => Iterable<ProcessRow>, version: number, opts: ViewOptions, now: number): readonly ProcessRow[] {
    const second = opts.sort.column === 'age' ? Math.floor(now / 1000) : 0;
    const question = JSON.stringify([opts.sort.column, opts.sort.descending, opts.query, opts.showExited, !!opts.tree, second,
      opts.units ?? null, !!opts.fold]);
    if (this.last?.version === version && this.last.question === question) return this.last.rows;
    const { shown, folded } = this.compute(rows, opts, now);
    this.last = { version, question, rows: shown, folded };
    return shown;
  }

  /** Rows the last view folded away (0 unless it folded). */
  folded(): number {
    return this.last?.folded ?? 0;
  }

  private compute(rows: () => Iterable<ProcessRow>, opts: ViewOptions, now: number): { shown: ProcessRow[]; folded: number } {
    const query = opts.query.toLowerCase();
    const units = opts.units ?? null;
    const picked: ProcessRow[] = [];
    const away = opts.fold ? this.foldedAway(rows) : null;
    for (const row of rows()) {
      if (away?.has(row)) continue;
      if (!opts.showExited && row.state !== 'running') continue;
      if (query !== '' && !this.haystack(row).includes(query)) continue;
      if (units && !matchUnit(units, row.unit)) continue;
      picked.push(row);
    }
    const sorted = sortRows(picked, opts.sort, now);
    return { shown: opts.tree ? this.treeOrder(sorted) : sorted, folded: away?.size ?? 0 };
  }

  /**
   * The noise of start-up that folding hides (the table keeps every row):
   * - helpers: processes that ended before an ancestor's last exec, when that ancestor exec'd more
   *   than once: the pyenv shim's bash, readlink and pyenv-* children, resolved before the real
   *   interpreter was exec'd in the same process;
   * - wrappers: `sh -c` shells that run exactly one child (the child stands in their place).
   */
  private foldedAway(rows: () => Iterable<ProcessRow>): Set<ProcessRow> {
    const away = new Set<ProcessRow>();
    const children = new Map<ProcessRow, number>();
    for (const row of rows()) {
      const p = this.parentOf(row);
      if (p) children.set(p, (children.get(p) ?? 0) + 1);
    }
    // Siblings share their ancestors: what a parent's line can serve is worked out once per parent.
    const servedUntil = new Map<ProcessRow, number>();
    for (const row of rows()) {
      const p = row.exitedAt !== null ? this.parentOf(row) : undefined;
      if (p && row.exitedAt! <= this.startUpEnd(p, servedUntil)) away.add(row);
      else if (SHELLS.has(row.comm) && row.args[1] === '-c' && children.get(row) === 1) away.add(row);
    }
    return away;
  }

  /**
   * The latest last exec among `p` and its ancestors (FOLD_DEPTH in all) that exec'd more than once:
   * a child of `p` that ended by then served the start-up of one of them (-Infinity: none did).
   */
  private startUpEnd(p: ProcessRow, memo: Map<ProcessRow, number>): number {
    const known = memo.get(p);
    if (known !== undefined) return known;
    let end = -Infinity;
    let a: ProcessRow | undefined = p;
    for (let depth = 0; a && depth < FOLD_DEPTH; depth++, a = this.parentOf(a)) {
      if (a.execs > 1 && a.lastExecAt > end) end = a.lastExecAt;
    }
    memo.set(p, end);
    return end;
  }

  /** Depth-first by parent, siblings in sort order; typed arrays keep it cheap at 50 000 rows. */
  private treeOrder(sorted: ProcessRow[]): ProcessRow[] {
    const position = new Map<ProcessRow, number>();
    const n = sorted.length;
    for (let i = 0; i < n; i++) position.set(sorted[i], i);
    const parent = new Int32Array(n).fill(-1);
    const first = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) {
      const p = this.parentOf(sorted[i]);
      const pi = p === undefined ? undefined : position.get(p); // a parent outside this view has none
      if (pi !== undefined) {
        parent[i] = pi;
        first[pi + 1]++;
      }
    }
    // Children of i are kids[first[i] .. first[i + 1]), in sort order.
    for (let i = 0; i < n; i++) first[i + 1] += first[i];
    const next = first.slice(0, n);
    const kids = new Int32Array(first[n]);
    for (let i = 0; i < n; i++) if (parent[i] >= 0) kids[next[parent[i]]++] = i;
    const out: ProcessRow[] = [];
    const seen = new Uint8Array(n);
    const depth = new Int32Array(n);
    const stack = new Int32Array(n);
    const visit = (root: number) => {
      let top = 0;
      stack[top++] = root;
      depth[root] = 0;
      while (top > 0) {
        const i = stack[--top];
        if (seen[i]) continue;
        seen[i] = 1;
        depths.set(sorted[i], depth[i]);
        out.push(sorted[i]);
        for (let k = first[i + 1] - 1; k >= first[i]; k--) {
          if (seen[kids[k]]) continue;
          depth[kids[k]] = depth[i] + 1;
          stack[top++] = kids[k];
        }
      }
    };
    for (let i = 0; i < n; i++) if (parent[i] < 0) visit(i);
    // Rows on a ppid cycle are reachable from no root: show them anyway.
    for (let i = 0; i < n; i++) if (!seen[i]) visit(i);
    return out;
  }

  /**
   * What a search looks in: comm, args, label and, once it ended, why (`oom`, `SIGKILL`, `by kill[42]`).
   * Cached until the row's comm, args or label change (renames, exec) or its end does.
   */
  private haystack(row: ProcessRow): string {
    const cached = this.searchText.get(row);
    const ended = stateText(row);
    if (cached && cached.comm === row.comm && cached.args === row.args && cached.label === row.label
      && cached.ended === ended && cached.killedBy === row.killedBy) return cached.text;
    const e = endingOfRow(row);
    const why = e ? `\0${reasonOf(e)}\0${ended}\0${reasonText(e)}` : '';
    // NUL between fields so a query cannot match across two of them.
    const text = `${row.comm}\0${row.args.join(' ')}\0${row.label}${why}`.toLowerCase();
    this.searchText.set(row, { comm: row.comm, args: row.args, label: row.label, ended, killedBy: row.killedBy, text });
    return text;
  }
}

/** Stable sort on keys computed once per row; rows without a value (cpu, rss) last either way. */
function sortRows(rows: ProcessRow[], spec: SortSpec, now: number): ProcessRow[] {
  const text = textKey(spec.column);
  const order = text
    ? sortByText(rows.map(text), spec.descending)
    : sortByNumber(numericKeys(rows, spec.column, now), spec.descending);
  const out = new Array<ProcessRow>(order.length); // sized once: grown by push, every step was garbage
  for (let i = 0; i < order.length; i++) out[i] = rows[order[i]];
  return out;
}

/**
 * Integer keys are packed with their index into one double and sorted natively, which is
 * several times faster than a comparator at 50 000 rows; the index breaks ties, so it is stable.
 */
function sortByNumber(keys: Float64Array, descending: boolean): ArrayLike<number> {
  const n = keys.length;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    if (keys[i] < min) min = keys[i];
    if (keys[i] > max) max = keys[i];
  }
  const missing = max - min + 1; // rank of "no value": after every real one
  if (n === 0 || !((missing + 1) * n < Number.MAX_SAFE_INTEGER)) return sortByComparator(keys, descending);
  const packed = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const k = keys[i];
    const rank = Number.isNaN(k) ? missing : descending ? max - k : k - min;
    packed[i] = rank * n + i;
  }
  packed.sort();
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = packed[i] % n;
  return order;
}

function sortByComparator(keys: Float64Array, descending: boolean): number[] {
  const dir = descending ? -1 : 1;
  return indexes(keys.length).sort((a, b) => {
    const ka = keys[a];
    const kb = keys[b];
    if (ka === kb) return a - b;
    if (Number.isNaN(ka)) return Number.isNaN(kb) ? a - b : 1;
    if (Number.isNaN(kb)) return -1;
    return ka < kb ? -dir : dir;
  });
}

/** Plain index arrays let V8's TimSort take nearly sorted input in one pass. */
function sortByText(keys: string[], descending: boolean): number[] {
  const dir = descending ? -1 : 1;
  return indexes(keys.length).sort((a, b) => (keys[a] === keys[b] ? a - b : keys[a] < keys[b] ? -dir : dir));
}

function indexes(n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(i);
  return out;
}

function textKey(column: SortColumn): ((row: ProcessRow) => string) | null {
  if (column === 'user') return (r) => r.user.toLowerCase();
  if (column === 'comm') return (r) => r.comm.toLowerCase();
  if (column === 'label') return (r) => r.label.toLowerCase();
  if (column === 'unit') return (r) => r.unit.toLowerCase();
  return null;
}

/** Integers (times in whole ms, CPU in hundredths of a percent: finer than anyone reads); NaN = no value. */
function numericKeys(rows: ProcessRow[], column: SortColumn, now: number): Float64Array {
  const keys = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    switch (column) {
      case 'pid': keys[i] = r.pid; break;
      case 'ppid': keys[i] = r.ppid; break;
      case 'started': keys[i] = Math.round(r.startedAt); break;
      case 'age': keys[i] = Math.round(rowAgeMs(r, now)); break; // what the AGE column shows
      case 'cpu': keys[i] = r.cpuPct === null ? NaN : Math.round(r.cpuPct * 100); break;
      case 'rss': keys[i] = r.rssKb === null ? NaN : Math.round(r.rssKb); break;
      default: keys[i] = stateKey(r);
    }
  }
  return keys;
}
