import { format } from 'date-fns';
import { describe, expect, it } from 'vitest';
import { clockText, formatLocal } from '../../src/core/format';

describe('formatLocal', () => {
  it('writes every pattern lifetop uses as date-fns does', () => {
    const patterns = ['HH:mm:ss', 'HH:mm:ss.SSS', 'yyyy-MM-dd HH:mm:ss.SSS', 'yyyyMMdd-HHmmss', 'yyyyMMdd', 'yyyy-MM-dd'];
    const times = [0, 1, 999, Date.UTC(2026, 0, 1), Date.UTC(2026, 11, 31, 23, 59, 59, 999), Date.UTC(2024, 1, 29, 12, 3, 4, 50), -86_400_000 * 365 * 100];
    for (let i = 0; i < 500; i++) times.push(Math.floor((i * 7919.123) ** 3) % 4e12);
    for (const ms of times) for (const p of patterns) expect(formatLocal(ms, p)).toBe(format(ms, p));
  });

  it("shows '-' for a time that is not one", () => {
    expect(clockText(Number.NaN)).toBe('-');
    expect(clockText(Number.POSITIVE_INFINITY)).toBe('-');
  });
});
