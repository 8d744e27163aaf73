// Prometheus metrics (prom-client) from the Session pipeline: the source's kernel counters, the exits
// of traced processes as the session hands them to every output, the table's running rows, and the
// loss per stage. Values pulled from elsewhere are refreshed right before each scrape renders.
import * as os from 'node:os';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { eventReason, signalName } from '../core/exitReason';
import { matchUnit } from '../core/filter';
import {
  LOSS_STAGES, processKey, type Counters, type ExitEvent, type LossStage, type ProcessRow, type StreamRecord,
} from '../core/types';
import { GroupCap, groupName, labelValue, OTHER } from './groups';

/** What the metrics read from the session (a Session is one). */
export interface MetricsFeed {
  counters(): Counters;
  loss(): Record<LossStage, number>;
  readonly inferred: { recovered: number; zombieExits: number; vanished: number };
  readonly table: { running(): ProcessRow[]; get(key: string): ProcessRow | undefined };
  /** --unit patterns: rows of other units are not counted (null: all). */
  readonly units: string[] | null;
  on(event: 'records', listener: (records: StreamRecord[]) => void): unknown;
}

export interface MetricsOptions {
  /** Distinct group label values (with the unit, pairs) before the rest count as "other". */
  maxGroups: number;
  /** Label by unit/container too. */
  unitLabel: boolean;
  info: { version: string; source: string; exitProgram: string };
  /** Run time of lifetop's BPF programs (null while the kernel has counted none: its BPF stats are off). */
  bpfRunStats?: () => { runNs: number; runs: number } | null;
}

/** Lifetimes from a crash loop's milliseconds to a day. */
const LIFETIME_BUCKETS = [0.01, 0.1, 1, 10, 60, 600, 3600, 86400];

/** Kernel counters (summed over CPUs): metric name, help, field of Counters. */
const KERNEL_COUNTERS: [string, string, keyof Counters][] = [
  ['lifetop_host_forks_total', 'Processes forked on the host (every process, not only traced ones).', 'forks'],
  ['lifetop_host_threads_total', 'Threads cloned on the host.', 'threads'],
  ['lifetop_host_execs_total', 'Successful execs on the host.', 'execs'],
  ['lifetop_host_exits_total', 'Processes that exited on the host.', 'exits'],
  ['lifetop_traced_forks_total', 'Fork events of traced processes sent by the kernel.', 'tracedForks'],
  ['lifetop_traced_execs_total', 'Exec events of traced processes sent by the kernel.', 'tracedExecs'],
  ['lifetop_traced_exits_total', 'Exit events of traced processes sent by the kernel.', 'tracedExits'],
];

export class Metrics {
  readonly registry = new Registry();
  private readonly groups: GroupCap;
  private readonly exits: Counter<string>;
  private readonly lifetimes: Histogram<string>;
  private readonly running: Gauge<string>;
  private readonly lost: Counter<string>;
  private readonly inferred: Counter<string>;
  private readonly groupCount: Gauge<string>;
  private readonly overflows: Counter<string>;
  private readonly kernel = new Map<keyof Counters, Counter<string>>();
  private bpfTime: Counter<string> | null = null;
  private bpfRuns: Counter<string> | null = null;
  /** What each pulled counter showed at the last scrape (they are advanced by the difference). */
  private readonly last = new Map<string, number>();

  constructor(private readonly feed: MetricsFeed, private readonly opts: MetricsOptions) {
    const registers = [this.registry];
    const groupLabels = opts.unitLabel ? ['group', 'unit'] : ['group'];
    this.groups = new GroupCap(opts.maxGroups);
    collectDefaultMetrics({ register: this.registry });
    for (const [name, help, field] of KERNEL_COUNTERS) this.kernel.set(field, new Counter({ name, help, registers }));
    this.exits = new Counter({
      name: 'lifetop_exits_total',
      help: 'Traced processes that ended, by group, reason (ok, code, signal, core, oom, lost) and signal name.',
      labelNames: [...groupLabels, 'reason', 'signal'], registers,
    });
    this.lifetimes = new Histogram({
      name: 'lifetop_process_lifetime_seconds', help: 'Lifetime of traced processes that ended (reason lost excluded), by group.',
      labelNames: groupLabels, buckets: LIFETIME_BUCKETS, registers,
    });
    this.running = new Gauge({ name: 'lifetop_running_processes', help: 'Traced processes running now, by group.', labelNames: groupLabels, registers });
    this.lost = new Counter({
      name: 'lifetop_lost_events_total',
      help: 'Events lost, by stage: kernel_ring (ring buffer full), addon_queue (reader behind), traced_map (processes not traced: set full).',
      labelNames: ['stage'], registers,
    });
    for (const stage of LOSS_STAGES) this.lost.inc({ stage }, 0);
    this.inferred = new Counter({
      name: 'lifetop_inferred_total',
      help: 'Ends and rows read from /proc instead of observed: recovered (found after a loss), zombie (status from /proc), vanished.',
      labelNames: ['kind'], registers,
    });
    for (const kind of ['recovered', 'zombie', 'vanished']) this.inferred.inc({ kind }, 0);
    this.groupCount = new Gauge({ name: 'lifetop_metrics_groups', help: 'Distinct group label values in use (at most --metrics-max-groups).', registers });
    this.overflows = new Counter({
      name: 'lifetop_metrics_group_overflows_total', help: 'Processes counted under group="other" because the group cap was reached.', registers,
    });
    const info = new Gauge({
      name: 'lifetop_build_info', help: 'lifetop version, kernel release, event source and exit program (value 1).',
      labelNames: ['version', 'kernel', 'source', 'exit_program'], registers,
    });
    info.set({
      version: labelValue(opts.info.version), kernel: labelValue(os.release()), source: opts.info.source,
      exit_program: labelValue(opts.info.exitProgram),
    }, 1);
    feed.on('records', (records) => this.observe(records));
  }

  /** The exposition text, with every pulled value brought up to date first. */
  async text(): Promise<string> {
    this.refresh();
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private observe(records: StreamRecord[]): void {
    for (const r of records) if (r.type === 'exit') this.exit(r);
  }

  private exit(ev: ExitEvent): void {
    const row = this.feed.table.get(processKey(ev.pid, ev.start));
    const labels = this.labels(row ?? { comm: ev.comm, label: '', filename: '', args: [], unit: ev.unit ?? '' });
    const reason = eventReason(ev);
    const signal = reason === 'signal' || reason === 'core' || reason === 'oom' ? signalName(ev.signal) : '';
    this.exits.inc({ ...labels, reason, signal });
    if (reason !== 'lost' && ev.durationMs >= 0) this.lifetimes.observe(labels, ev.durationMs / 1000);
  }

  /** group (and unit) of a row, through the cap. `count`: an overflow is tallied (once per process, at its end). */
  private labels(row: Pick<ProcessRow, 'comm' | 'label' | 'filename' | 'args' | 'unit'>, count = true): Record<string, string> {
    const group = groupName(row);
    if (!this.opts.unitLabel) {
      const admitted = this.groups.admit(group, count);
      return { group: admitted };
    }
    const unit = labelValue(row.unit);
    const admitted = this.groups.admit(`${group}\0${unit}`, count);
    return admitted === OTHER ? { group: OTHER, unit: OTHER } : { group, unit };
  }

  private refresh(): void {
    const c = this.feed.counters();
    for (const [field, counter] of this.kernel) this.advance(field, counter, {}, c[field]);
    const loss = this.feed.loss();
    for (const stage of LOSS_STAGES) this.advance(`lost:${stage}`, this.lost, { stage }, loss[stage]);
    const inf = this.feed.inferred;
    this.advance('inferred:recovered', this.inferred, { kind: 'recovered' }, inf.recovered);
    this.advance('inferred:zombie', this.inferred, { kind: 'zombie' }, inf.zombieExits);
    this.advance('inferred:vanished', this.inferred, { kind: 'vanished' }, inf.vanished);

    const counts = new Map<string, { labels: Record<string, string>; n: number }>();
    for (const row of this.feed.table.running()) {
      if (!matchUnit(this.feed.units, row.unit)) continue;
      const labels = this.labels(row, false);
      const key = labels.unit === undefined ? labels.group : `${labels.group}\0${labels.unit}`;
      const entry = counts.get(key);
      if (entry) entry.n++;
      else counts.set(key, { labels, n: 1 });
    }
    this.running.reset(); // groups with nothing running drop out
    for (const { labels, n } of counts.values()) this.running.set(labels, n);

    this.groupCount.set(this.groups.size);
    this.advance('overflows', this.overflows, {}, this.groups.overflowed);
    this.refreshBpf();
  }

  private refreshBpf(): void {
    const stats = this.opts.bpfRunStats?.() ?? null;
    if (stats === null) return;
    const registers = [this.registry];
    this.bpfTime ??= new Counter({
      name: 'lifetop_bpf_run_seconds_total', help: "CPU time spent in lifetop's BPF programs (counted while the kernel's BPF stats are on).", registers,
    });
    this.bpfRuns ??= new Counter({ name: 'lifetop_bpf_runs_total', help: "Runs of lifetop's BPF programs (counted while the kernel's BPF stats are on).", registers });
    this.advance('bpf:ns', this.bpfTime, {}, stats.runNs / 1e9);
    this.advance('bpf:runs', this.bpfRuns, {}, stats.runs);
  }

  /** Moves a counter up to `value` (a cumulative count read elsewhere); never down. */
  private advance(key: string, counter: Counter<string>, labels: Record<string, string>, value: number): void {
    const delta = value - (this.last.get(key) ?? 0);
    if (delta <= 0) return;
    this.last.set(key, value);
    counter.inc(labels, delta);
  }
}
