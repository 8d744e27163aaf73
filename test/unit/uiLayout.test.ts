// Pane rectangles for terminal sizes: everything from 80x24 up, sparklines then log dropped below.
import { describe, expect, it } from 'vitest';
import { computeLayout, TABLE_MIN, type Layout, type Rect } from '../../src/ui/layout';

const panes = (l: Layout): Rect[] => [l.status, l.sparks, l.table, l.log, l.hint].filter((r): r is Rect => r !== null);

function expectTiled(l: Layout): void {
  let top = 0;
  for (const r of panes(l)) {
    expect(r.top).toBe(top);
    expect(r.left).toBe(0);
    expect(r.width).toBe(l.width);
    expect(r.height).toBeGreaterThanOrEqual(0);
    top += r.height;
  }
  expect(top).toBe(l.height);
}

describe('computeLayout', () => {
  it('shows every pane at 80x24 and larger', () => {
    for (const [w, h] of [[80, 24], [120, 40], [200, 60]]) {
      const l = computeLayout(w, h);
      expect(l.sparks, `${w}x${h}`).not.toBeNull();
      expect(l.log, `${w}x${h}`).not.toBeNull();
      expect(l.status.top).toBe(0);
      expect(l.hint.top + l.hint.height).toBe(h);
      expect(l.table.height).toBeGreaterThanOrEqual(TABLE_MIN);
      expectTiled(l);
    }
  });

  it('gives extra height to the table', () => {
    expect(computeLayout(80, 50).table.height).toBeGreaterThan(computeLayout(80, 24).table.height);
  });

  it('drops the sparklines first, then the log, keeping status, table and hint', () => {
    const mid = computeLayout(60, 15);
    expect(mid.sparks).toBeNull();
    expect(mid.log).not.toBeNull();
    expectTiled(mid);
    const small = computeLayout(60, 11);
    expect(small.sparks).toBeNull();
    expect(small.log).toBeNull();
    expect(small.table.height).toBeGreaterThanOrEqual(TABLE_MIN);
    expectTiled(small);
  });

  it('drops the sparklines on narrow terminals', () => {
    expect(computeLayout(40, 30).sparks).toBeNull();
    expect(computeLayout(40, 30).log).not.toBeNull();
  });

  it('never drops panes in the wrong order as the height shrinks', () => {
    const heights = Array.from({ length: 60 }, (_, i) => 60 - i); // 60 down to 1
    const layouts = heights.map((h) => computeLayout(80, h));
    const hasSparks = layouts.map((l) => l.sparks !== null);
    const hasLog = layouts.map((l) => l.log !== null);
    // The range covers both drops: everything at the top, neither optional pane at the bottom.
    expect([hasSparks[0], hasLog[0], hasSparks[59], hasLog[59]]).toEqual([true, true, false, false]);
    // Each is shown down to some height and never again below it; the sparklines go first.
    const sparksGone = hasSparks.indexOf(false);
    const logGone = hasLog.indexOf(false);
    expect(hasSparks.slice(sparksGone), `sparklines back below h=${heights[sparksGone]}`).not.toContain(true);
    expect(hasLog.slice(logGone), `log back below h=${heights[logGone]}`).not.toContain(true);
    expect(sparksGone).toBeLessThan(logGone);
    layouts.forEach((l, i) => {
      const h = heights[i];
      expectTiled(l);
      // Status, table and hint all keep a line down to 3 rows.
      expect(h < 3 || [l.status.height, l.hint.height, l.table.height].every((n) => n > 0), `h=${h}`).toBe(true);
    });
  });

  it('survives degenerate sizes', () => {
    for (const [w, h] of [[1, 1], [0, 0], [10, 2], [10, 3], [-5, 4]]) {
      const l = computeLayout(w, h);
      expect(l.table.height).toBeGreaterThanOrEqual(1);
      expectTiled(l);
    }
  });
});
