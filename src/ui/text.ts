// Building blocks for pane text: styled segments fitted to an exact width, hard wrapping, framed overlays.
// Every piece of text goes through clean() here, so panes cannot forget to sanitize.

import { clean, escapeTags } from '../core/sanitize';
import type { Style, Theme } from './theme';

export interface Segment {
  text: string;
  style?: Style;
}

/** One screen line of exactly `width` cells from styled segments; overflow is cut, the rest padded. */
export function line(segs: readonly Segment[], width: number, theme: Theme): string {
  let remaining = Math.max(0, width);
  let out = '';
  for (const seg of segs) {
    if (remaining === 0) break;
    let t = clean(seg.text);
    if (t.length > remaining) t = t.slice(0, remaining);
    out += theme.paint(seg.style, escapeTags(t));
    remaining -= t.length;
  }
  return out + ' '.repeat(remaining);
}

/** Hard-wrap text (cleaned first) into lines of at most `width` cells; never returns an empty list. */
export function wrap(s: string, width: number): string[] {
  const c = clean(s);
  const w = Math.max(1, width);
  if (c.length <= w) return [c];
  const out: string[] = [];
  for (let i = 0; i < c.length; i += w) out.push(c.slice(i, i + w));
  return out;
}

/**
 * A framed overlay: title in the top border, body lines (segments) scrolled by `scroll`, exactly
 * width x height cells. Drawn as text rather than a blessed border so ASCII mode and colours stay ours.
 */
export function frame(
  title: string, body: readonly Segment[][], width: number, height: number, scroll: number, theme: Theme,
): string {
  const g = theme.glyphs;
  const inner = Math.max(0, width - 4);
  const rows = Math.max(0, height - 2);
  const top = line(
    [{ text: g.corners[0] + g.hline + ' ' }, { text: title, style: 'title' }, { text: ' ' + g.hline.repeat(width) }],
    width - 1, theme,
  ) + g.corners[1];
  const lines = [top];
  const start = Math.max(0, Math.min(scroll, body.length - rows));
  for (let i = 0; i < rows; i++) {
    const segs = body[start + i] ?? [];
    lines.push(g.vline + ' ' + line(segs, inner, theme) + ' ' + g.vline);
  }
  const more = body.length > rows ? ` ${start + 1}-${Math.min(body.length, start + rows)}/${body.length} ` : '';
  lines.push(g.corners[2] + line([{ text: g.hline.repeat(2) + more + g.hline.repeat(width) }], width - 2, theme) + g.corners[3]);
  return lines.join('\n');
}
