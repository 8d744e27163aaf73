// Status bar pane (two lines): what is traced and how much, then view modes, messages and source caveats.

import { describeFilter } from '../core/filter';
import type { FilterSpec, LossStage } from '../core/types';
import { clockText, formatCount } from '../core/format';
import { line, type Segment } from './text';
import type { Theme } from './theme';
import type { ViewState } from './viewState';

export interface StatusInfo {
  sourceKind: string;
  filter: FilterSpec;
  counts: { running: number; exited: number; lost: number; total: number };
  eventsPerSec: number;
  /** Lost per stage: every stage is shown once any loses, so "healed" can be read next to it. */
  loss: Record<LossStage, number>;
  /** Rows found in /proc after a loss. */
  recovered: number;
  /** What stopped the source (the table is frozen), or null. */
  fault: string | null;
  caveat?: string;
  now: number;
  /** Launch mode: how the command stands. */
  command?: string;
  /** Rows folded out of the table (z shows them). */
  folded?: number;
}

function firstLine(info: StatusInfo): Segment[] {
  const c = info.counts;
  const segs: Segment[] = [
    { text: ` ${info.sourceKind}: ` },
    { text: describeFilter(info.filter), style: 'key' },
    { text: info.filter.followChildren ? ' +children' : ' -children' },
    { text: `  ${c.running} running  ${c.exited} exited` },
  ];
  if (c.lost > 0) segs.push({ text: `  ${c.lost} lost`, style: 'lost' });
  segs.push({ text: `  ${formatCount(info.eventsPerSec)} ev/s  ` });
  const l = info.loss;
  if (l.kernel_ring + l.addon_queue + l.traced_map === 0) {
    segs.push({ text: 'lost 0' });
  } else {
    // Only the stages that lost, so the line fits: ring (kernel buffer), queue (reader), map (traced set).
    const parts = [['ring', l.kernel_ring], ['queue', l.addon_queue], ['map', l.traced_map]]
      .filter(([, n]) => (n as number) > 0).map(([what, n]) => `${what} ${formatCount(n as number)}`);
    segs.push({ text: ` LOST ${parts.join(' ')} `, style: 'alert' });
    segs.push({ text: ` ${formatCount(info.recovered)} recovered` });
  }
  return segs;
}

function secondLine(info: StatusInfo, s: ViewState, theme: Theme): Segment[] {
  const g = theme.glyphs;
  const segs: Segment[] = [{ text: ' ' }];
  if (s.paused) segs.push({ text: ' PAUSED ', style: 'paused' }, { text: ' ' });
  segs.push({ text: `sort ${s.sort.column}${s.sort.descending ? g.sortDown : g.sortUp}` });
  if (s.query) segs.push({ text: '  search ' }, { text: `"${s.query}"`, style: 'key' });
  if (!s.showExited) segs.push({ text: '  exited hidden' });
  if (s.tree) segs.push({ text: '  tree' });
  if (info.folded) segs.push({ text: `  ${info.folded} folded (z)` });
  if (info.fault) segs.push({ text: '  ' }, { text: info.fault, style: 'error' });
  if (s.message) segs.push({ text: '  ' }, { text: s.message, style: s.messageIsError ? 'error' : 'message' });
  if (info.command) segs.push({ text: '  ' }, { text: info.command, style: 'key' });
  if (info.caveat) segs.push({ text: '  ' }, { text: info.caveat, style: 'lost' });
  return segs;
}

/** Two lines of exactly `width` cells; the clock is right-aligned on the second, which is usually short. */
export function renderStatus(info: StatusInfo, s: ViewState, width: number, theme: Theme): string {
  const clock = width >= 40 ? ' ' + clockText(info.now) + ' ' : '';
  const bottom = line(secondLine(info, s, theme), width - clock.length, theme) + line([{ text: clock }], clock.length, theme);
  return line(firstLine(info), width, theme) + '\n' + bottom;
}
