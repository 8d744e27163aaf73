import { describe, expect, it } from 'vitest';
import { EventCounter } from '../../src/core/counters';
import { Rates, SERIES_NAMES } from '../../src/model/rates';
import type { Counters, LossStage, LostRecord } from '../../src/core/types';
import { at, exec, exit, fork } from '../support/events';

function counters(o: Partial<Counters> = {}): Counters {
  return {
    forks: 0, threads: 0, execs: 0, exits: 0, tracedForks: 0, tracedExecs: 0, tracedExits: 0, drops: 0, trackFails: 0, queueDrops: 0,
    ...o,
  };
}

describe('Rates', () => {
  it('uses the first push as the baseline only', () => {
    const r = new Rates();
    r.push(counters({ forks: 1000 }), 0);
    expect(r.series('forks')).toEqual([]);
    r.push(counters({ forks: 1010 }), 1000);
    expect(r.series('forks')).toEqual([10]); // measured from 1000
  });

  it('turns deltas into per-second values scaled to the elapsed time', () => {
    const r = new Rates();
    r.push(counters({ forks: 10, execs: 5 }), 1000);
    r.push(counters({ forks: 30, execs: 5 }), 2000);
    r.push(counters({ forks: 60, execs: 8 }), 4000); // two seconds later
    r.push(counters({ forks: 61, execs: 8 }), 4500); // half a second later
    expect(r.series('forks')).toEqual([20, 15, 2]);
    expect(r.series('execs')).toEqual([0, 1.5, 0]);
    r.push(counters({ forks: 71, execs: 8 }), 5500);
    expect(r.series('forks')).toEqual([20, 15, 2, 10]); // the last push (61) is the new baseline
  });

  it('keeps every series aligned, one point per push', () => {
    const r = new Rates();
    for (let i = 0; i <= 5; i++) r.push(counters({ drops: i * 2, tracedExits: i }), i * 1000);
    for (const name of SERIES_NAMES) expect(r.series(name)).toHaveLength(5);
    expect(r.series('tracedExits')).toEqual([1, 1, 1, 1, 1]);
  });

  it('keeps at most windowSec points, oldest first', () => {
    const r = new Rates(3);
    for (let i = 0; i <= 6; i++) r.push(counters({ execs: i * i }), i * 1000);
    expect(r.series('execs')).toEqual([7, 9, 11]);
  });

  it('resets the baseline when a counter goes backwards, never going negative', () => {
    const r = new Rates();
    r.push(counters({ exits: 500, forks: 10 }), 0);
    r.push(counters({ exits: 20, forks: 12 }), 1000); // source restarted
    r.push(counters({ exits: 25, forks: 14 }), 2000);
    expect(r.series('exits')).toEqual([0, 5]);
    expect(r.series('forks')).toEqual([2, 2]);
  });

  it('ignores a push at the same instant', () => {
    const r = new Rates();
    r.push(counters({ forks: 1 }), 1000);
    r.push(counters({ forks: 5 }), 1000);
    r.push(counters({ forks: 6 }), 2000);
    expect(r.series('forks')).toEqual([5]);
  });

  it('reports current, peak and average', () => {
    const r = new Rates();
    expect(r.stats('forks')).toEqual({ current: 0, peak: 0, avg: 0 });
    [0, 4, 14, 16].forEach((forks, i) => r.push(counters({ forks }), i * 1000));
    expect(r.stats('forks')).toEqual({ current: 2, peak: 10, avg: (4 + 10 + 2) / 3 });
  });

  it('hands out copies', () => {
    const r = new Rates();
    r.push(counters(), 0);
    r.push(counters({ forks: 1 }), 1000);
    r.series('forks').push(99);
    expect(r.series('forks')).toEqual([1]);
  });
});

describe('EventCounter', () => {
  it('counts events by type, all of them as traced', () => {
    const c = new EventCounter();
    c.add([exec(1, 1), fork(1, 1, 2, 2), fork(1, 1, 3, 3), exit(2, 2)]);
    c.add([exit(3, 3), exit(1, 1)]);
    expect(c.counters()).toEqual(counters({ execs: 1, tracedExecs: 1, forks: 2, tracedForks: 2, exits: 3, tracedExits: 3 }));
  });

  it("counts a recording's lost records into the counter of their stage", () => {
    const lost = (stage: LossStage, count: number): LostRecord => ({ type: 'lost', time: at(5), stage, count, since: at(4), until: at(5) });
    const c = new EventCounter();
    c.add([exec(1, 1), lost('kernel_ring', 5), lost('addon_queue', 7), lost('traced_map', 2)]);
    c.add([lost('kernel_ring', 10), lost('addon_queue', 0), exit(1, 1)]);
    expect(c.counters()).toEqual(counters({
      execs: 1, tracedExecs: 1, exits: 1, tracedExits: 1, drops: 15, queueDrops: 7, trackFails: 2,
    }));
  });

  it('feeds Rates', () => {
    const c = new EventCounter();
    const r = new Rates();
    r.push(c.counters(), 0);
    c.add([exec(1, 1), exec(2, 1), exec(3, 1)]);
    r.push(c.counters(), 1000);
    expect(r.series('tracedExecs')).toEqual([3]);
  });
});
