// The process table: pairs exec/fork with exit by (pid, start) and keeps running and recently
// ended rows (bounded by age and count). Views of it (search, sort, tree) are tableView.ts's.

import { labelFor } from './label';
import { RowViews, type ViewOptions } from './tableView';
import { ExecEvent, ExitEvent, ForkEvent, NS_PER_TICK, processKey, type ProcessRow, type RowState, StreamRecord } from '../core/types';

export type { ProcessRow, RowState } from '../core/types';

export { SORT_COLUMNS, treeDepth, type SortColumn, type SortSpec, type ViewOptions } from './tableView';
export interface TableOptions {
  /** How long exited and lost rows stay visible, ms (default 10 000). */
  retentionMs?: number;
  /** Hard bound on rows; the oldest ended rows go first (default 50 000). */
  maxRows?: number;
  userName?: (uid: number) => string;
}

export class ProcessTable {
  private readonly rows = new Map<string, ProcessRow>();
  /**
   * Rows in the order they stopped running, and when (table time): a FIFO whose stale entries (a row
   * removed, or ended again since: its endSeenAt moved on) are skipped. A ring of two flat arrays
   * that only ever doubles: a storm keeps tens of thousands of ended rows, and an object an entry,
   * or arrays re-sliced as they drain, were garbage in V8's large-object space.
   */
  private endRows: (ProcessRow | undefined)[] = new Array<ProcessRow | undefined>(1024);
  private endAts = new Float64Array(1024);
  private endHead = 0;
  private endSize = 0;
  /** Rows by pid: the row itself, or (pid reused within the retention) all of them. */
  private readonly byPid = new Map<number, ProcessRow | ProcessRow[]>();
  private readonly retentionMs: number;
  private readonly maxRows: number;
  private readonly userName: (uid: number) => string;
  private changes = 0;
  /** Rows per state, kept as rows come, change state and go (the status bar asks every frame). */
  private readonly tally: Record<RowState, number> = { running: 0, exited: 0, lost: 0 };
  private readonly viewer = new RowViews((row) => this.parentOf(row));

  constructor(opts: TableOptions = {}) {
    this.retentionMs = opts.retentionMs ?? 10_000;
    this.maxRows = opts.maxRows ?? 50_000;
    this.userName = opts.userName ?? String;
  }

  /** Increments on every change, so the UI redraws only when it moved. */
  get version(): number {
    return this.changes;
  }

  apply(events: StreamRecord[], now: number): void {
    for (const ev of events) {
      if (ev.type === 'exec') this.onExec(ev, now);
      else if (ev.type === 'fork') this.onFork(ev, now);
      else if (ev.type === 'exit') this.onExit(ev, now);
    }
    // Enforce the bound here too, so memory stays flat even if expire() is called rarely.
    this.trim();
  }

  /** Running rows whose key is not in `alive` (read at `now`) become 'lost'; returns how many. */
  reconcile(alive: Set<string>, now: number): number {
    let lost = 0;
    for (const row of this.rows.values()) {
      // A row that entered after the scan may simply be too new to be in it.
      if (row.state !== 'running' || alive.has(row.key) || row.firstSeenAt > now) continue;
      this.setState(row, 'lost');
      row.exitedAt = now;
      this.markEnded(row, now);
      lost++;
    }
    if (lost > 0) this.changes++;
    return lost;
  }

  /** Drops exited and lost rows older than the retention, then enforces maxRows. */
  expire(now: number): void {
    for (let row = this.oldestEnded(); row && now - row.endSeenAt! >= this.retentionMs; row = this.oldestEnded()) {
      this.remove(row);
    }
    this.trim();
  }

  /** Live samples of running rows; a comm, when given, follows renames (prctl PR_SET_NAME). */
  updateStats(stats: Map<string, { cpuPct: number; rssKb: number; comm?: string }>): void {
    let changed = false;
    for (const [key, s] of stats) {
      const row = this.rows.get(key);
      const comm = s.comm ?? row?.comm;
      if (!row || (row.cpuPct === s.cpuPct && row.rssKb === s.rssKb && row.comm === comm)) continue;
      row.cpuPct = s.cpuPct;
      row.rssKb = s.rssKb;
      if (comm !== undefined && comm !== row.comm) {
        row.comm = comm;
      }
      changed = true;
    }
    if (changed) this.changes++;
  }

  get(key: string): ProcessRow | undefined {
    return this.rows.get(key);
  }

  running(): ProcessRow[] {
    return [...this.rows.values()].filter((row) => row.state === 'running');
  }

  /** Rows to display: filtered, stably sorted, in tree mode depth-first (depths: treeDepth()). */
  view(opts: ViewOptions, now: number): readonly ProcessRow[] {
    return this.viewer.view(() => this.rows.values(), this.changes, opts, now);
  }

  /** Rows the last view folded away (ViewOptions.fold). */
  folded(): number {
    return this.viewer.folded();
  }

  /** The row itself first, then its parent, up to the oldest known ancestor (for the details popup). */
  parentChain(key: string): ProcessRow[] {
    const chain: ProcessRow[] = [];
    const seen = new Set<ProcessRow>();
    for (let row = this.rows.get(key); row && !seen.has(row); row = this.parentOf(row)) {
      chain.push(row);
      seen.add(row);
    }
    return chain;
  }

  counts(): { running: number; exited: number; lost: number; total: number } {
    return { ...this.tally, total: this.rows.size };
  }

  private setState(row: ProcessRow, state: RowState): void {
    if (this.rows.get(row.key) === row) {
      this.tally[row.state]--;
      this.tally[state]++;
    }
    row.state = state;
  }

  private onExec(ev: ExecEvent, now: number): void {
    const key = processKey(ev.pid, ev.start);
    const row = this.rows.get(key);
    if (!row) {
      const fresh = this.newRow(key, ev, now, { seeded: ev.seeded === true, recovered: ev.recovered === true });
      fresh.execs = 1;
      fresh.lastExecAt = ev.time;
      this.insert(fresh);
      return;
    }
    // A late /proc seed knows less than the kernel events that already described this process.
    if ((ev.seeded || ev.recovered) && row.args.length > 0) return;
    // Exec in place: same process, new image. An exited row stays exited (its exit came first).
    row.execs++;
    row.lastExecAt = Math.max(row.lastExecAt, ev.time);
    row.ppid = ev.ppid;
    row.uid = ev.uid;
    row.user = this.user(ev.uid);
    row.comm = ev.comm;
    row.filename = ev.filename;
    row.args = ev.args;
    row.argsTruncated = ev.argsTruncated;
    row.cgroupId = ev.cgroupId;
    if (ev.cgroup !== undefined) {
      row.cgroup = ev.cgroup;
      row.unit = ev.unit ?? '';
    }
    row.label = labelFor(row, this.parentOf(row));
    this.changes++;
  }

  private onFork(ev: ForkEvent, now: number): void {
    const key = processKey(ev.childPid, ev.childStart);
    // The child's exec may have overtaken this fork: what it reported is newer.
    if (this.rows.has(key)) return;
    const parent = this.rows.get(processKey(ev.pid, ev.start));
    const image = parent ?? { comm: ev.comm, filename: '', args: [], argsTruncated: false };
    const row = this.newRow(key, {
      pid: ev.childPid, ppid: ev.pid, uid: ev.uid, comm: image.comm, filename: image.filename,
      args: image.args, argsTruncated: image.argsTruncated, start: ev.childStart,
      startedAt: ev.startedAt - (ev.start - ev.childStart) / 1e6, cgroupId: ev.cgroupId,
      cgroup: parent?.cgroup ?? ev.cgroup, unit: parent?.unit ?? ev.unit,
    }, now, { parent });
    this.insert(row);
  }

  private onExit(ev: ExitEvent, now: number): void {
    const key = processKey(ev.pid, ev.start);
    let row = this.rows.get(key);
    if (!row) {
      // Exit overtook its exec/fork: keep what the header tells; a later exec only fills in args.
      row = this.newRow(key, { ...ev, filename: '', args: [], argsTruncated: false }, now, { parent: null, seeded: ev.seeded });
      this.insert(row);
    } else if (row.state !== 'running') {
      // Exactly one exit per process; only the kernel's own report (status known) may replace one
      // inferred from /proc: not another inference, not the /proc source's status-less one.
      const inferred = row.state === 'lost' || row.exitFromProc;
      if (!inferred || ev.inferred || ev.unknownStatus) return;
    }
    this.setState(row, ev.inferred === 'vanished' ? 'lost' : 'exited');
    row.exitFromProc = ev.inferred === 'zombie';
    if (row.comm !== ev.comm) {
      row.comm = ev.comm; // the name it died with: it may have renamed itself since exec
    }
    const unknown = ev.unknownStatus || ev.inferred === 'vanished';
    row.exitCode = unknown ? null : ev.exitCode;
    row.signal = unknown ? null : ev.signal;
    row.coreDumped = ev.coreDumped;
    row.killedBy = ev.killedBy ?? null;
    row.oomRssKb = ev.oom ? ev.oom.rssKb : null;
    row.oomMemcg = ev.oom?.memcg ?? null;
    row.exitedAt = ev.time;
    row.lifetimeMs = ev.durationMs;
    this.markEnded(row, now);
    this.changes++;
  }

  private newRow(
    key: string,
    src: Pick<ProcessRow, 'pid' | 'ppid' | 'uid' | 'comm' | 'filename' | 'args' | 'argsTruncated' | 'start' | 'startedAt' | 'cgroupId'>
      & { cgroup?: string; unit?: string },
    now: number,
    opts: { seeded?: boolean; recovered?: boolean; parent?: ProcessRow | null },
  ): ProcessRow {
    const row: ProcessRow = {
      key, pid: src.pid, ppid: src.ppid, uid: src.uid, user: this.user(src.uid), comm: src.comm,
      filename: src.filename, args: src.args, argsTruncated: src.argsTruncated, label: '',
      start: src.start, startedAt: src.startedAt, firstSeenAt: now, endSeenAt: null, execs: 0, lastExecAt: 0, state: 'running',
      exitCode: null, signal: null, coreDumped: false, exitedAt: null, lifetimeMs: null,
      cpuPct: null, rssKb: null, seeded: opts.seeded === true, recovered: opts.recovered === true,
      exitFromProc: false, killedBy: null, oomRssKb: null, oomMemcg: null, cgroupId: src.cgroupId,
      cgroup: src.cgroup ?? '', unit: src.cgroup !== undefined ? src.unit ?? '' : '',
    };
    // parent undefined: look it up by ppid; null: deliberately none.
    const parent = opts.parent === undefined ? this.parentOf(row) : opts.parent ?? undefined;
    row.label = labelFor(row, parent);
    return row;
  }

  /** The row for row.ppid that was alive when row started: the newest one that started no later. */
  private parentOf(row: ProcessRow): ProcessRow | undefined {
    let best: ProcessRow | undefined;
    // Compared in ticks: a /proc-seeded start is only tick-precise.
    const ticks = Math.floor(row.start / NS_PER_TICK);
    const same = this.byPid.get(row.ppid);
    if (same === undefined) return undefined;
    for (const cand of Array.isArray(same) ? same : [same]) {
      if (cand === row || Math.floor(cand.start / NS_PER_TICK) > ticks) continue;
      if (!best || cand.start > best.start || (cand.start === best.start && cand.state === 'running')) best = cand;
    }
    return best;
  }

  /** The caller's userName does its own caching (userNames() reads /etc/passwd once). */
  private user(uid: number): string {
    return this.userName(uid);
  }

  private insert(row: ProcessRow): void {
    const old = this.rows.get(row.key);
    if (old) this.tally[old.state]--;
    this.rows.set(row.key, row);
    this.tally[row.state]++;
    const same = this.byPid.get(row.pid);
    if (same === undefined) this.byPid.set(row.pid, row);
    else if (Array.isArray(same)) same.push(row);
    else this.byPid.set(row.pid, [same, row]);
    this.changes++;
  }

  private remove(row: ProcessRow): void {
    if (this.rows.get(row.key) !== row) return;
    this.rows.delete(row.key);
    this.tally[row.state]--;
    row.endSeenAt = null; // its queue entries are stale now
    const same = this.byPid.get(row.pid);
    if (same === row) this.byPid.delete(row.pid);
    else if (Array.isArray(same)) {
      const rest = same.filter((r) => r !== row);
      if (rest.length > 1) this.byPid.set(row.pid, rest);
      else if (rest.length === 1) this.byPid.set(row.pid, rest[0]);
      else this.byPid.delete(row.pid);
    }
    this.changes++;
  }

  /** (Re)queues a row for expiry, as the most recently ended. */
  private markEnded(row: ProcessRow, now: number): void {
    row.endSeenAt = now;
    let cap = this.endAts.length;
    if (this.endSize === cap) {
      // Full: double, oldest first again.
      const rows = new Array<ProcessRow | undefined>(cap * 2);
      const ats = new Float64Array(cap * 2);
      for (let i = 0; i < cap; i++) {
        rows[i] = this.endRows[(this.endHead + i) & (cap - 1)];
        ats[i] = this.endAts[(this.endHead + i) & (cap - 1)];
      }
      this.endRows = rows;
      this.endAts = ats;
      this.endHead = 0;
      cap *= 2;
    }
    const at = (this.endHead + this.endSize) & (cap - 1);
    this.endRows[at] = row;
    this.endAts[at] = now;
    this.endSize++;
  }

  /** The row of the oldest still-valid entry of the expiry queue, dropping stale ones on the way. */
  private oldestEnded(): ProcessRow | undefined {
    const mask = this.endAts.length - 1;
    while (this.endSize > 0) {
      const row = this.endRows[this.endHead]!;
      if (row.endSeenAt === this.endAts[this.endHead] && this.rows.get(row.key) === row) return row;
      this.endRows[this.endHead] = undefined; // stale: let it go
      this.endHead = (this.endHead + 1) & mask;
      this.endSize--;
    }
    return undefined;
  }

  private trim(): void {
    for (let row = this.oldestEnded(); row && this.rows.size > this.maxRows; row = this.oldestEnded()) this.remove(row);
  }
}
