import { describe, expect, it } from 'vitest';
import { format } from 'date-fns/format';
import { clockText } from '../../src/core/format';

describe('clockText', () => {
  it('reads as date-fns format does, for the cached patterns too', () => {
    // Whole and fractional ms, second boundaries, a DST-free and a far date, in whatever TZ runs the test.
    const base = Date.UTC(2026, 11, 2, 17, 59, 59, 998);
    const times = [0, 999, 1000, 1000.9, base, base + 1, base + 2, base + 0.5, Date.UTC(2026, 2, 29, 1, 0, 0), 4102444800000];
    let seed = 7;
    for (let i = 0; i < 2000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      times.push(base + (seed % 10_000_000) + (i % 3) / 3);
    }
    for (const ms of times) {
      for (const pattern of ['HH:mm:ss', 'HH:mm:ss.SSS', 'yyyy-MM-dd HH:mm:ss.SSS']) {
        expect(clockText(ms, pattern), `${ms} ${pattern}`).toBe(format(ms, pattern));
      }
    }
  });

  it('says - for a time that is not one', () => {
    expect(clockText(NaN)).toBe('-');
    expect(clockText(Infinity, 'HH:mm:ss.SSS')).toBe('-');
  });
});
