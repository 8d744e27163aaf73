// A running collection: one source feeding the model on a timer. The source
// callback only buffers (and records); table, log and rates update at most
// every TICK_MS, so a storm of events never starves timers or the UI.
import { EventEmitter } from 'node:events';
import { EventLog } from './model/eventLog';
import { ProcessTable } from './model/processTable';
import { Rates } from './model/rates';
import type { Counters, EventSource, FilterSpec, LifecycleEvent } from './model/types';
import { aliveKeys, seedFromProc, StatsSampler } from './source/procfs';
import type { Recorder } from './source/replay';

const TICK_MS = 100;
const SAMPLE_MS = 1000;
const RECONCILE_MS = 3000;

export interface SessionOptions {
  filter: FilterSpec;
  retentionMs: number;
  maxRows: number;
  /** Also append every event to a recording. */
  recorder?: Recorder;
  userName?: (uid: number) => string;
}

export class Session extends EventEmitter {
  readonly table: ProcessTable;
  readonly rates = new Rates(120);
  readonly log = new EventLog(2000);
  filter: FilterSpec;
  readonly caveat?: string;

  private pending: LifecycleEvent[] = [];
  private readonly sampler = new StatsSampler();
  private readonly live: boolean;
  private timers: NodeJS.Timeout[] = [];
  private running = false;
  private recent: { at: number; n: number }[] = [];
  /** Replay runs on the recording's clock, so ages and retention read as they did then. */
  private virtualNow = 0;
  private lastVersion = -1;

  constructor(readonly source: EventSource, private readonly opts: SessionOptions) {
    super();
    this.filter = opts.filter;
    this.caveat = source.caveat;
    this.live = source.kind !== 'replay';
    this.table = new ProcessTable({ retentionMs: opts.retentionMs, maxRows: opts.maxRows, userName: opts.userName });
  }

  now(): number {
    return this.live ? Date.now() : this.virtualNow;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.source.setFilter(this.filter);
    // Attach first, then seed: a process started in between is seen twice
    // (harmless, exec in place), never missed.
    this.source.start((events) => this.receive(events));
    if (this.live) this.seed();
    this.every(TICK_MS, () => this.tick());
    this.every(SAMPLE_MS, () => this.sample());
    if (this.live) this.every(RECONCILE_MS, () => this.reconcile());
  }

  /** Stops the source (which hands over what it still had) and applies the rest. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.source.stop();
    this.tick();
  }

  setFilter(filter: FilterSpec): void {
    this.filter = filter;
    this.source.setFilter(filter);
    if (this.live) this.seed();
    this.emit('change');
  }

  eventsPerSec(): number {
    const cutoff = Date.now() - 1000;
    return this.recent.filter((r) => r.at >= cutoff).reduce((sum, r) => sum + r.n, 0);
  }

  drops(): number {
    return this.counters().drops;
  }

  counters(): Counters {
    return this.source.counters();
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref();
    this.timers.push(t);
  }

  private receive(events: LifecycleEvent[]): void {
    this.opts.recorder?.write(events);
    for (const ev of events) this.pending.push(ev);
  }

  private seed(): void {
    const seeds = seedFromProc(this.filter, Date.now());
    this.source.track(seeds.map((e) => e.pid));
    this.opts.recorder?.write(seeds);
    for (const ev of seeds) this.pending.push(ev);
  }

  private tick(): void {
    if (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      if (!this.live) this.virtualNow = Math.max(this.virtualNow, batch[batch.length - 1].time);
      this.table.apply(batch, this.now());
      const fresh = batch.filter((e) => !(e.type === 'exec' && e.seeded));
      this.log.push(fresh);
      this.recent.push({ at: Date.now(), n: fresh.length });
      if (this.recent.length > 64) this.recent.splice(0, this.recent.length - 64);
    }
    this.changed();
  }

  private sample(): void {
    const now = this.now();
    this.rates.push(this.counters(), now);
    if (this.live) this.table.updateStats(this.sampler.sample(this.table.running(), now));
    this.table.expire(now);
    this.emit('change');
  }

  private reconcile(): void {
    this.table.reconcile(aliveKeys(), this.now());
    this.changed();
  }

  private changed(): void {
    if (this.table.version !== this.lastVersion) {
      this.lastVersion = this.table.version;
      this.emit('change');
    }
  }
}
