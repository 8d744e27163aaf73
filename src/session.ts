// ONE pipeline for every mode (UI, --json, --snapshot): a source feeds the model on a timer;
// seeding, reconcile, healing after loss, recording and loss records all happen here, so
// every output sees the same stream. The source callback only buffers; table, log and
// rates update at most every TICK_MS, so a storm of events never starves timers or the UI.
import { EventEmitter } from 'node:events';
import { EventLog } from './model/eventLog';
import { ProcessTable } from './model/processTable';
import { Rates } from './model/rates';
import {
  isFollowing, LOSS_COUNTER, LOSS_STAGES, processKey, type Counters, type EventSource, type FilterSpec, type LifecycleEvent, type LossStage,
  type LostRecord, type StreamRecord,
} from './core/types';
import { describeFilter, formatFilter, matchComm, matchUnit } from './core/filter';
import { unitOf } from './core/cgroup';
import { CgroupResolver, unitDenyLists, type UnitDeny } from './source/cgroups';
import { isDead, readCgroup, scanByKey } from './source/procfs';
import { StatsSampler } from './source/procSampler';
import { inferredExit, lookup, recoverFromProc, seedFromProc } from './source/procSeed';
import type { Recorder } from './source/replay';
import { signalProcess } from './source/signal';

const TICK_MS = 100;
/** Seconds of rate history kept for the chart view (the sparklines show the last 120). */
const HISTORY_SEC = 600;
const SAMPLE_MS = 1000;
const RECONCILE_MS = 3000;
/**
 * A process seen dead or gone in /proc may still have its exit in flight from the kernel
 * (the exit tracepoint fires before the zombie state shows): look again this much later,
 * and infer only what the kernel still has not said.
 */
const CONFIRM_MS = 300;
/** Scans of /proc at seeding, until one finds nothing new. */
const SEED_ROUNDS = 3;

export interface SessionOptions {
  /** null: pass everything the source gives (a replay without -f shows the whole recording). */
  filter: FilterSpec | null;
  retentionMs: number;
  maxRows: number;
  /** Also append every record to a recording. */
  recorder?: Recorder;
  userName?: (uid: number) => string;
  /** --unit: only processes whose unit matches (core/filter parseUnitFilter); null or absent: all. */
  units?: string[] | null;
  /** Resolves the kernel's cgroup ids (tests hand in one over a tree of their own). */
  cgroups?: CgroupResolver;
  /**
   * Launch mode: the filter's one pid is COMMAND's held process. It is tracked, not shown (its exec
   * into COMMAND starts its row), and `-f` patterns narrow what of its tree is shown.
   */
  launch?: { narrow: string[] | null };
  /** What the signal action uses (tests hand in their own); default: a pidfd through the addon. */
  signaller?: (pid: number, start: number, signal: number) => string;
  /**
   * A stream nobody reads the table of (--json): ended rows leave at the next tick (after every
   * listener saw their exit) and running rows are not sampled for CPU% and RSS. Saves the memory
   * and garbage of thousands of retained rows in a storm.
   */
  stream?: boolean;
}

/** What a session inferred rather than observed, for every output's counters. */
export interface Inferred {
  /** Rows found in /proc after a loss. */
  recovered: number;
  /** Exits read from a zombie's /proc entry. */
  zombieExits: number;
  /** Processes gone without an exit event (status unknown). */
  vanished: number;
}

export type Loss = Record<LossStage, number>;

export class Session extends EventEmitter {
  readonly table: ProcessTable;
  readonly rates = new Rates(120);
  readonly history = new Rates(HISTORY_SEC);
  readonly log = new EventLog(2000);
  filter: FilterSpec;
  /** false while the source's own filter (a recording's) stands: nothing narrows it here. */
  private filtered: boolean;
  readonly caveat?: string;
  readonly inferred: Inferred = { recovered: 0, zombieExits: 0, vanished: 0 };
  /** A fault that stopped the source (shown by every output), or null. */
  fault: string | null = null;
  /** Unit patterns (user space): rows and records of other units are not shown. null: all. */
  units: string[] | null;

  private pending: StreamRecord[] = [];
  private readonly sampler = new StatsSampler();
  private readonly live: boolean;
  private timers: NodeJS.Timeout[] = [];
  private confirm: NodeJS.Timeout | null = null;
  private running = false;
  private recent: { at: number; n: number }[] = [];
  /** Replay runs on the recording's clock, so ages and retention read as they did then. */
  private virtualNow = 0;
  private lastVersion = -1;
  /** Loss per stage as last reported in the stream, and when. */
  private reportedLoss: Loss = { kernel_ring: 0, addon_queue: 0, traced_map: 0 };
  private reportedAt = 0;
  /** Total loss the table was last healed for. */
  private healedLoss = 0;
  private readonly lossSeen: Loss = { kernel_ring: 0, addon_queue: 0, traced_map: 0 };
  private resolver: CgroupResolver | null = null;
  /** Launch mode: comm patterns that narrow the tree shown (null: all of it). */
  private narrow: string[] | null;

  constructor(readonly source: EventSource, private readonly opts: SessionOptions) {
    super();
    this.filter = opts.filter ?? { patterns: ['*'], followChildren: true };
    this.filtered = opts.filter !== null;
    this.caveat = source.caveat ?? (opts.launch ? 'complete tree: traced from its first exec'
      : opts.filter?.pids?.length ? 'descendants forked before lifetop started are seeded from /proc, not observed' : undefined);
    this.narrow = opts.launch?.narrow ?? null;
    this.live = source.kind !== 'replay';
    this.table = new ProcessTable({ retentionMs: opts.stream ? 0 : opts.retentionMs, maxRows: opts.maxRows, userName: opts.userName });
    this.units = opts.units ?? null;
  }

  /** Shows only processes whose unit matches (null: all); the table keeps every row, views filter. */
  setUnits(units: string[] | null): void {
    this.units = units;
    this.pushUnits();
    // The kernel dropped execs in cgroups the old units denied: what runs there now is found in
    // /proc (and tracked), as after a filter change.
    if (this.live && this.running) this.seed();
    this.emit('change');
  }

  /**
   * --unit in the kernel too, where it can be: the cgroups known not to match, refreshed with every
   * reconcile (new cgroups pass until then, and user space decides for them).
   */
  private pushUnits(): void {
    const src = this.source as Partial<{ setUnitDeny(lists: UnitDeny | null): void }>;
    if (typeof src.setUnitDeny !== 'function') return;
    src.setUnitDeny(this.units === null ? null : unitDenyLists(this.units));
  }

  /** Whether a record passes the unit filter (lost records always do). */
  shows(r: StreamRecord): boolean {
    return r.type === 'lost' || matchUnit(this.units, r.unit);
  }

  now(): number {
    return this.live ? Date.now() : this.virtualNow;
  }

  /** Whether start() ran (the UI may draw before it, while the kernel source loads). */
  get started(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.reportedAt = Date.now();
    if (this.filtered) this.source.setFilter(this.filter);
    if (this.units !== null) this.pushUnits();
    // Attach first, then seed: a process started in between is seen twice
    // (harmless, exec in place), never missed.
    this.source.start((records) => this.receive(records));
    if (this.live) this.seed();
    this.every(TICK_MS, () => this.tick());
    this.every(SAMPLE_MS, () => this.sample());
    // Only the kernel source needs reconciling: the /proc source is /proc (it reports zombies and
    // vanished processes itself), a replay is what it recorded.
    if (isFollowing(this.source)) this.every(RECONCILE_MS, () => this.reconcile(false));
  }

  /** Stops the source (which hands over what it still had) and applies the rest. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (this.confirm) clearTimeout(this.confirm);
    this.confirm = null;
    this.source.stop();
    if (this.live) this.reportLoss(Date.now());
    this.tick();
  }

  /**
   * Makes the table agree with /proc now, without the grace a running source needs: for a
   * snapshot, right before it is written (after stop(), nothing is in flight any more).
   */
  reconcileNow(): void {
    if (!isFollowing(this.source)) return;
    this.reconcile(true);
  }

  /** The filter as users write it; a replay shown whole says so. */
  filterText(): string {
    if (!this.filtered) return '* (as recorded)';
    const tree = describeFilter(this.filter);
    if (!this.opts.launch) return tree;
    return `tree of ${tree}${this.narrow ? ` narrowed to ${formatFilter(this.narrow)}` : ''}`;
  }

  /**
   * A new filter from the UI. --pid roots stay traced whatever the patterns; in launch mode the
   * patterns narrow the tree shown (empty or * shows all of it) and the kernel keeps the tree.
   */
  setFilter(spec: FilterSpec): void {
    if (this.opts.launch) {
      const all = spec.patterns.length === 0 || spec.patterns.includes('*');
      this.narrow = all ? null : spec.patterns.slice();
      this.emit('change');
      return;
    }
    const filter: FilterSpec = { ...spec, ...(this.filter.pids ? { pids: this.filter.pids } : {}) };
    this.filter = filter;
    this.filtered = true;
    this.source.setFilter(filter); // the kernel forgets what the old filter traced...
    // ...but rows already shown keep their exits observed, whatever the new filter says.
    if (isFollowing(this.source)) this.source.track(this.table.running());
    if (this.live) this.seed();
    this.emit('change');
  }

  eventsPerSec(): number {
    const cutoff = Date.now() - 1000;
    return this.recent.filter((r) => r.at >= cutoff).reduce((sum, r) => sum + r.n, 0);
  }

  counters(): Counters {
    return this.source.counters();
  }

  /** Everything lost so far, per stage: kernel counters for live sources, lost records for replay. */
  loss(): Loss {
    if (!this.live) return { ...this.lossSeen };
    const c = this.counters();
    return { kernel_ring: c.drops, addon_queue: c.queueDrops, traced_map: c.trackFails };
  }

  /** What a snapshot says about how far to trust it: events seen, lost per stage, rows inferred. */
  snapshotCounters(): Record<string, number> {
    const c = this.counters();
    const loss = this.loss();
    return {
      forks: c.tracedForks, execs: c.tracedExecs, exits: c.tracedExits,
      lost_kernel_ring: loss.kernel_ring, lost_addon_queue: loss.addon_queue, lost_traced_map: loss.traced_map,
      recovered: this.inferred.recovered, zombie_exits: this.inferred.zombieExits, vanished: this.inferred.vanished,
    };
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref();
    this.timers.push(t);
  }

  private receive(records: StreamRecord[]): void {
    for (const r of records) this.pending.push(r);
  }

  /**
   * Seeds what runs now; what exits before track() takes hold is verified, never left running.
   * A matching process may fork while the scan reads /proc, before its parent is tracked: the
   * kernel cannot follow that child, so scan again until a scan finds nothing new (bounded).
   */
  private seed(): void {
    const known = new Set<string>();
    const out: LifecycleEvent[] = [];
    for (let round = 0; round < SEED_ROUNDS; round++) {
      const seeds = seedFromProc(this.filter, Date.now()).filter((e) => !known.has(processKey(e.pid, e.start) + e.type));
      if (seeds.length === 0) break;
      for (const e of seeds) known.add(processKey(e.pid, e.start) + e.type);
      const ended = new Set(seeds.filter((e) => e.type === 'exit').map((e) => processKey(e.pid, e.start)));
      const live = seeds.filter((e) => e.type === 'exec' && !ended.has(processKey(e.pid, e.start)));
      if (isFollowing(this.source)) this.source.track(live);
      if (this.opts.launch) return; // the held COMMAND: its exec starts its row, nothing of it is seeded
      out.push(...seeds);
      for (const ev of live) {
        const key = processKey(ev.pid, ev.start);
        const seen = lookup(ev.pid, key);
        if (seen.state === 'alive') continue;
        // An exit verified here belongs to the seeding, unless the table already showed the process.
        const exit = inferredExit(ev, seen.stat, Date.now());
        out.push(this.table.get(key) ? exit : { ...exit, seeded: true });
      }
    }
    this.receive(out);
  }

  private tick(): void {
    if (this.opts.stream) this.table.expire(this.now()); // last tick's exits have been seen by all
    if (this.pending.length > 0) {
      const batch = this.narrow ? this.narrowed(this.pending) : this.pending;
      this.pending = [];
      if (!this.live) for (const r of batch) if (r.time > this.virtualNow) this.virtualNow = r.time; // out of order too
      this.place(batch);
      this.opts.recorder?.write(batch);
      this.table.apply(batch, this.now());
      let fresh = 0;
      const shown: StreamRecord[] = [];
      for (const r of batch) {
        if (r.type === 'lost') this.lossSeen[r.stage] += r.count;
        else if (r.type === 'exit' && r.inferred) this.inferred[r.inferred === 'zombie' ? 'zombieExits' : 'vanished']++;
        else if (r.type === 'exec' && r.recovered) this.inferred.recovered++;
        if ((r.type === 'exec' || r.type === 'exit') && r.seeded) continue;
        if (this.units !== null && !this.shows(r)) continue;
        shown.push(r);
        if (r.type !== 'lost') fresh++;
      }
      this.log.push(shown);
      this.emit('records', shown);
      this.recent.push({ at: Date.now(), n: fresh });
      if (this.recent.length > 64) this.recent.splice(0, this.recent.length - 64);
    }
    this.changed();
  }

  /**
   * Launch mode with -f: only the tree's processes whose comm matches at exec are shown; their exits
   * and forks follow them. Loss records always pass.
   */
  private narrowed(batch: StreamRecord[]): StreamRecord[] {
    const kept = new Set<string>();
    return batch.filter((r) => {
      if (r.type === 'lost') return true;
      const key = processKey(r.pid, r.start);
      if (r.type === 'exec' && matchComm(this.narrow!, r.comm)) kept.add(key);
      return kept.has(key) || this.table.get(key) !== undefined;
    });
  }

  /**
   * A signal to the process a row shows, never to a pid reused since (a pidfd checked against the
   * start time); the result in words. Replays have no processes to signal.
   */
  sendSignal(target: { pid: number; start: number }, signal: number): string {
    if (!this.live) return 'not sent: a replay has no live processes';
    const send = this.opts.signaller ?? signalProcess;
    return send(target.pid, target.start, signal);
  }

  /**
   * Where each process ran: an exec's cgroup from the kernel's ids (read at exec), or, when those do
   * not resolve, /proc/PID/cgroup; exits and forks take their process's (a row, or an exec earlier in
   * the batch). A replay keeps what the recording says.
   */
  private place(batch: StreamRecord[]): void {
    let local: Map<string, { cgroup: string; unit: string }> | null = null;
    for (const r of batch) {
      if (r.type === 'lost') continue;
      const key = processKey(r.pid, r.start);
      if (r.cgroup === undefined) {
        if (r.type === 'exec' && this.live) {
          this.resolver ??= this.opts.cgroups ?? new CgroupResolver();
          let placed = this.source.kind === 'bpf' ? this.resolver.resolve(r.cgroupId, r.memcgId) : null;
          // v2 at the root and no v1 memory controller: the ids say only "/", /proc may know cpu's path.
          if (placed?.cgroup === '/' && !this.resolver.hasMemory) {
            const fromProc = readCgroup(r.pid);
            if (fromProc !== '' && fromProc !== '/') placed = { cgroup: fromProc, unit: unitOf(fromProc) };
          }
          const cgroup = placed?.cgroup ?? readCgroup(r.pid);
          if (cgroup !== '') {
            r.cgroup = cgroup;
            r.unit = placed?.unit ?? unitOf(cgroup);
          }
        } else if (r.type !== 'exec') {
          const known = local?.get(key) ?? this.table.get(key);
          if (known && known.cgroup !== '') {
            r.cgroup = known.cgroup;
            r.unit = known.unit;
          }
        }
      }
      if (r.type === 'exec' && r.cgroup !== undefined) (local ??= new Map()).set(key, { cgroup: r.cgroup, unit: r.unit ?? '' });
      if (r.type === 'exit' && r.oom?.memcgId !== undefined && r.oom.memcg === undefined && this.live) {
        this.resolver ??= this.opts.cgroups ?? new CgroupResolver();
        const memcg = this.resolver.memoryPath(r.oom.memcgId);
        if (memcg !== null) r.oom.memcg = memcg;
      }
    }
  }

  private sample(): void {
    const now = this.now();
    const counters = this.counters();
    this.rates.push(counters, now);
    this.history.push(counters, now);
    if (this.live) {
      if (!this.opts.stream) this.table.updateStats(this.sampler.sample(this.table.running(), now));
      const fault = this.source.fault?.() ?? null;
      if (fault && !this.fault) {
        this.fault = fault;
        this.emit('fault', fault);
      }
      // A loss is reported in the stream and healed at once, not at the next reconcile.
      if (this.reportLoss(Date.now()) && isFollowing(this.source)) this.reconcile(false);
    }
    this.table.expire(now);
    this.emit('change');
  }

  /** Appends a lost record for each stage whose counter grew; true if any did. */
  private reportLoss(now: number): boolean {
    const c = this.counters();
    const lost: LostRecord[] = [];
    for (const stage of LOSS_STAGES) {
      const total = c[LOSS_COUNTER[stage]];
      const count = total - this.reportedLoss[stage];
      if (count > 0) lost.push({ type: 'lost', time: now, stage, count, since: this.reportedAt, until: now });
      this.reportedLoss[stage] = total;
    }
    this.reportedAt = now;
    this.receive(lost);
    return lost.length > 0;
  }

  /**
   * Running rows that /proc shows dead or gone get the exit the kernel did not report; after a
   * loss, running processes the filter traces and the table lacks are recovered. Unless
   * `final`, both are confirmed CONFIRM_MS later, so an event still in flight wins.
   */
  private reconcile(final: boolean): void {
    this.tick();
    if (this.units !== null && !final) this.pushUnits();
    const procs = scanByKey();
    const suspects = this.table.running().filter((row) => {
      const st = procs.get(row.key);
      return !st || isDead(st);
    }).map((row) => row.key);
    const loss = this.loss();
    const totalLoss = LOSS_STAGES.reduce((sum, stage) => sum + loss[stage], 0);
    const heal = totalLoss > this.healedLoss ? totalLoss : null;
    if (suspects.length === 0 && heal === null) return;
    if (final) {
      this.settle(suspects, heal);
      return;
    }
    if (this.confirm) return; // one confirmation at a time; the next reconcile catches the rest
    this.confirm = setTimeout(() => {
      this.confirm = null;
      if (this.running) this.settle(suspects, heal);
    }, CONFIRM_MS);
    this.confirm.unref();
  }

  /** `heal`: the total loss this heals (recorded only once it is done, so a stop in between retries it). */
  private settle(suspects: string[], heal: number | null): void {
    this.tick(); // what arrived meanwhile counts first
    const now = Date.now();
    const out: LifecycleEvent[] = [];
    for (const key of suspects) {
      const row = this.table.get(key);
      if (!row || row.state !== 'running') continue;
      const seen = lookup(row.pid, key);
      if (seen.state !== 'alive') out.push(inferredExit(row, seen.stat, now));
    }
    if (heal !== null) {
      const found = recoverFromProc(this.filter, (key) => this.table.get(key) !== undefined, now);
      // With the traced set full, tracking what was found fails too: that is loss (counted and
      // reported), but healing it again would find the same processes and fail the same way, once
      // a period for ever (a launch tree -f narrows away is never in the table, so found again).
      const failed = isFollowing(this.source) ? this.source.track(found) : 0;
      this.healedLoss = heal + failed;
      out.push(...found);
    }
    if (out.length > 0) {
      this.receive(out);
      this.tick();
    }
    // A loss reported while this confirmation was pending is healed now, not at the next period.
    const loss = this.loss();
    if (LOSS_STAGES.reduce((sum, stage) => sum + loss[stage], 0) > this.healedLoss) this.reconcile(false);
  }

  private changed(): void {
    if (this.table.version !== this.lastVersion) {
      this.lastVersion = this.table.version;
      this.emit('change');
    }
  }
}
