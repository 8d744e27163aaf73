// The rate-history chart's text form (--ascii, --no-color) and its helpers, without a terminal.
import { describe, expect, it } from 'vitest';
import { ageLabel, textPanel } from '../../src/ui/chartPane';
import { bucket } from '../../src/ui/sparklines';
import { makeTheme } from '../../src/ui/theme';
import { plain } from '../support/tags';

const ascii = makeTheme({ color: false, ascii: true });

describe('chart helpers', () => {
  it('labels points by how long ago they were, the last one now', () => {
    expect(ageLabel(599, 600)).toBe('now');
    expect(ageLabel(0, 600)).toBe('-9:59');
    expect(ageLabel(540, 600)).toBe('-0:59');
  });

  it('buckets by maximum so a one-second spike survives the squeeze', () => {
    const values = Array<number>(600).fill(1);
    values[333] = 50;
    const out = bucket(values, 60);
    expect(out).toHaveLength(60);
    expect(Math.max(...out)).toBe(50);
    expect(bucket([1, 2, 3], 10)).toEqual([1, 2, 3]);
  });
});

describe('textPanel', () => {
  it('is exactly width x height, ASCII only, with legend, axis and a point per series', () => {
    const series = [
      { title: 'forks/s', mark: 'f', values: [0, 0, 10, 0] },
      { title: 'execs/s', mark: 'e', values: [0, 5, 0, 0] },
    ];
    const text = plain(textPanel('all processes', series, 60, 10, ascii));
    const lines = text.split('\n');
    expect(lines).toHaveLength(10);
    for (const l of lines) expect(l).toHaveLength(60);
    expect(/^[\x20-\x7e\n]*$/.test(text)).toBe(true);
    expect(lines[0]).toMatch(/all processes\s+f=forks\/s e=execs\/s\s+peak 10\/s/);
    expect(lines[1]).toMatch(/^10 \|.*f/); // the peak at the top
    expect(lines.some((l) => /^\s+\|.*e/.test(l))).toBe(true); // 5 halfway down
    expect(lines[8]).toMatch(/^\s+\+-+$/);
    expect(lines[9]).toMatch(/-0:5\d\s+now$/); // one column a second: the left edge is plot-width seconds ago
    // Where two series share a cell (both 0 at the bottom), it says so.
    expect(lines[7]).toContain('#');
  });

  it('says it is collecting before the first point, and never divides by an idle peak', () => {
    const text = textPanel('traced', [{ title: 'forks/s', mark: 'f', values: [] }], 30, 6, ascii);
    expect(text).toContain('collecting');
    const idle = textPanel('traced', [{ title: 'forks/s', mark: 'f', values: [0, 0, 0] }], 30, 6, ascii);
    expect(idle).not.toContain('NaN');
    expect(idle.split('\n')).toHaveLength(6);
  });
});
