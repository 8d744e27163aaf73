import { describe, expect, it } from 'vitest';
import { EventLog } from '../../src/model/eventLog';
import type { LostRecord } from '../../src/core/types';
import { at, exec } from '../support/events';

const evs = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => exec(from + i, 1));
const pids = (log: EventLog) => log.entries().map((e) => (e.type === 'lost' ? -1 : e.pid));

describe('EventLog', () => {
  it('keeps events oldest first', () => {
    const log = new EventLog(10);
    log.push(evs(1, 4));
    log.push(evs(4, 6));
    expect(pids(log)).toEqual([1, 2, 3, 4, 5]);
    expect(log.size).toBe(5);
  });

  it('drops the oldest beyond capacity, across batches', () => {
    const log = new EventLog(4);
    log.push(evs(1, 4));
    log.push(evs(4, 7));
    expect(pids(log)).toEqual([3, 4, 5, 6]);
    log.push(evs(7, 8));
    expect(pids(log)).toEqual([4, 5, 6, 7]);
    expect(log.size).toBe(4);
  });

  it('keeps the newest of a batch larger than the ring', () => {
    const log = new EventLog(3);
    log.push(evs(1, 2));
    log.push(evs(10, 20));
    expect(pids(log)).toEqual([17, 18, 19]);
  });

  it('stays bounded over many pushes', () => {
    const log = new EventLog(2000);
    for (let i = 0; i < 500; i++) log.push(evs(i * 10, i * 10 + 10));
    expect(log.size).toBe(2000);
    expect(pids(log)[0]).toBe(3000);
    expect(pids(log)[1999]).toBe(4999);
  });

  it('moves the version only when something was pushed', () => {
    const log = new EventLog();
    const v = log.version;
    log.push([]);
    expect(log.version).toBe(v);
    log.push(evs(1, 2));
    expect(log.version).toBeGreaterThan(v);
  });

  it('keeps lost records in order among the events', () => {
    const log = new EventLog(4);
    const lost: LostRecord = { type: 'lost', time: at(3), stage: 'kernel_ring', count: 9, since: at(2), until: at(3) };
    log.push([...evs(1, 3), lost, ...evs(3, 5)]);
    expect(pids(log)).toEqual([2, -1, 3, 4]);
    expect(log.entries()[1]).toBe(lost);
  });

  it('rejects a capacity below one', () => {
    expect(() => new EventLog(0)).toThrow(/at least 1/);
  });
});
