// BpfSource around a fake addon: batches are decoded and handed on, stop() detaches and delivers
// what was still queued (in order), counters include the reader's own drops, a failed reader is a
// fault, and the addon's one-line errors reach the caller unchanged.
import { describe, expect, it } from 'vitest';
import { BpfSource, DeferredBpfSource, LAYOUT } from '../../src/source/bpf';
import { canLoadBpf } from '../../src/source/procfs';
import type { NativeAddon, NativeCounters, NativeTracer, TracerStats } from '../../src/source/native';
import type { StreamRecord } from '../../src/core/types';

const BOOT_MS = Date.parse('2026-01-01T00:00:00Z');

/** One exit record, packed as the addon hands it over (u32 length + record, 8-byte aligned). */
function exitRecord(pid: number, code: number): Buffer {
  const H = LAYOUT.header;
  const X = LAYOUT.exit;
  const rec = Buffer.alloc(X.core_dumped + 8);
  rec.writeBigUInt64LE(2_000_000_000n, H.ts_ns);
  rec.writeBigUInt64LE(1_000_000_000n, H.start_ns);
  rec.writeUInt32LE(LAYOUT.types.exit, H.type);
  rec.writeUInt32LE(pid, H.pid);
  rec.write('python3', H.comm);
  rec.writeInt32LE(code, X.exit_code);
  const out = Buffer.alloc((4 + rec.length + 7) & ~7);
  out.writeUInt32LE(rec.length, 0);
  rec.copy(out, 4);
  return out;
}

class FakeTracer implements NativeTracer {
  onBatch: ((b: Buffer) => void) | null = null;
  stopped = false;
  rest: Buffer | undefined;
  tracked: [number[], number[]][] = [];
  stats_: TracerStats = { batches: 0, merges: 0, records: 0, lost: 0, pollError: 0, exitProgram: 'group_dead' };
  start(onBatch: (b: Buffer) => void): void { this.onBatch = onBatch; }
  stop(): Buffer | undefined { this.stopped = true; return this.rest; }
  setFilter(): void {}
  trackFailures = 0;
  unitDeny: unknown[] = [];
  setUnitDeny(...args: unknown[]): void { this.unitDeny.push(args); }
  track(pids: number[], starts: number[]): number { this.tracked.push([pids, starts]); return this.trackFailures; }
  counters(): NativeCounters {
    return { forks: 1, threads: 0, execs: 2, exits: 3, tracedForks: 0, tracedExecs: 1, tracedExits: 1, drops: 4, trackFails: 5 };
  }
  stats(): TracerStats { return this.stats_; }
}

function fake(tracer = new FakeTracer(), fail?: Error): { addon: Pick<NativeAddon, 'Tracer' | 'bootEpochMs'>; tracer: FakeTracer } {
  const Tracer = function () {
    if (fail) throw fail;
    return tracer;
  } as unknown as NativeAddon['Tracer'];
  return { addon: { Tracer, bootEpochMs: () => BOOT_MS }, tracer };
}

const filter = { patterns: ['python*'], followChildren: true };

describe('BpfSource with a fake addon', () => {
  it('decodes batches and hands them on; stop() delivers what was still queued, after the rest, in order', () => {
    const { addon, tracer } = fake();
    const src = new BpfSource({ filter }, addon);
    const got: StreamRecord[] = [];
    src.start((evs) => got.push(...evs));
    tracer.onBatch!(exitRecord(10, 1));
    tracer.rest = Buffer.concat([exitRecord(11, 2), exitRecord(12, 3)]);
    src.stop();
    expect(tracer.stopped).toBe(true);
    expect(got.map((e) => (e.type === 'exit' ? [e.pid, e.exitCode] : null))).toEqual([[10, 1], [11, 2], [12, 3]]);
    expect(got[0].time).toBe(BOOT_MS + 2000);
    src.stop(); // twice is harmless
    tracer.onBatch!(exitRecord(13, 4)); // a late call after stop goes nowhere
    expect(got).toHaveLength(3);
  });

  it('counts the reader queue drops with the kernel counters, and reports a failed reader as a fault', () => {
    const { addon, tracer } = fake();
    const src = new BpfSource({ filter }, addon);
    tracer.stats_ = { ...tracer.stats_, lost: 7 };
    expect(src.counters()).toMatchObject({ drops: 4, trackFails: 5, queueDrops: 7 });
    expect(src.fault()).toBeNull();
    tracer.stats_ = { ...tracer.stats_, pollError: 5 };
    expect(src.fault()).toMatch(/kernel event reader failed \(errno 5\)/);
  });

  it('tracks already-running processes by pid and start; not once stopped', () => {
    const { addon, tracer } = fake();
    const src = new BpfSource({ filter }, addon);
    src.track([{ pid: 5, start: 3e9 }, { pid: 6, start: 4e9 }]);
    src.track([]);
    src.stop();
    src.track([{ pid: 7, start: 1 }]);
    expect(tracer.tracked).toEqual([[[5, 6], [3e9, 4e9]]]);
  });

  it('counts processes track() could not add (a full traced set) as traced-map loss', () => {
    const { addon, tracer } = fake();
    const src = new BpfSource({ filter }, addon);
    tracer.trackFailures = 2;
    expect(src.track([{ pid: 5, start: 3e9 }, { pid: 6, start: 4e9 }])).toBe(2); // what a heal must not heal again
    expect(src.counters().trackFails).toBe(5 + 2); // the kernel's own 5, and these 2
  });

  it('hands --unit deny lists to the kernel (and turns the check off with null)', () => {
    const { addon, tracer } = fake();
    const src = new BpfSource({ filter }, addon);
    src.setUnitDeny({ v2: [[1, 2], [40, 1]], memcg: [7, 8] });
    src.setUnitDeny(null);
    expect(tracer.unitDeny).toEqual([[true, [1, 40], [2, 1], [7, 8]], [false, [], [], []]]);
  });

  it("passes the addon's one-line error through unchanged", () => {
    const err = Object.assign(new Error('lifetop needs root (or CAP_BPF and CAP_PERFMON) to load its eBPF programs'), { code: 'EPERM_BPF' });
    expect(() => new BpfSource({ filter }, fake(undefined, err).addon)).toThrow(err);
  });
});

describe('DeferredBpfSource (the UI attaches behind its first frame)', () => {
  it('loads nothing until started; keeps the filter asked for before; answers empty counters until then', () => {

    let made = 0;
    const tracer = new FakeTracer();
    const filters: unknown[][] = [];
    tracer.setFilter = (...args: unknown[]) => void filters.push(args);
    const Tracer = function () {
      made++;
      return tracer;
    } as unknown as NativeAddon['Tracer'];
    const src = new DeferredBpfSource({ filter }, { Tracer, bootEpochMs: () => BOOT_MS });
    src.setFilter({ patterns: ['uvicorn*'], followChildren: false });
    expect(made).toBe(0);
    expect(src.loaded).toBe(false);
    expect(src.counters().execs).toBe(0);
    expect(src.fault()).toBeNull();
    const seen: StreamRecord[] = [];
    src.start((evs) => seen.push(...evs));
    expect(made).toBe(1);
    expect(filters[0]).toEqual([false, ['uvicorn'], [true], false]); // the filter asked for before start, compiled
    tracer.onBatch!(exitRecord(42, 3));
    expect(seen).toMatchObject([{ type: 'exit', pid: 42, exitCode: 3 }]);
    expect(src.counters().execs).toBe(2); // the kernel's now
    src.stop();
    expect(tracer.stopped).toBe(true);
  });
});

describe('canLoadBpf', () => {
  it('reads CapEff: CAP_BPF with CAP_PERFMON, or CAP_SYS_ADMIN; nothing else', () => {

    expect(canLoadBpf('Name:\tx\nCapEff:\t000001ffffffffff\n')).toBe(true); // root
    expect(canLoadBpf('CapEff:\t000000c000000000\n')).toBe(true); // CAP_BPF + CAP_PERFMON
    expect(canLoadBpf('CapEff:\t0000008000000000\n')).toBe(false); // CAP_BPF alone
    expect(canLoadBpf('CapEff:\t0000000000200000\n')).toBe(true); // CAP_SYS_ADMIN
    expect(canLoadBpf('CapEff:\t0000000000000000\n')).toBe(false);
    expect(canLoadBpf('')).toBe(false);
  });
});
