// Event log pane: recent lifecycle events, newest at the bottom, scrollable back through the model's
// bounded EventLog; only the visible window is turned into text.

import type { StreamRecord } from '../core/types';
import { clockText, formatLifetime } from '../core/format';
import { endingOfEvent, reasonText } from '../core/exitReason';
import { line, type Segment } from './text';
import type { Theme } from './theme';

/** One event as styled segments: time, kind, child<-parent, comm, then args or exit status. */
export function eventSegments(ev: StreamRecord): Segment[] {
  const time = { text: clockText(ev.time, 'HH:mm:ss.SSS') + ' ' };
  switch (ev.type) {
    case 'exec': {
      const args = ev.args.length > 0 ? ev.args.join(' ') : ev.filename;
      const how = ev.recovered ? ' (recovered from /proc)' : '';
      return [time, { text: 'EXEC', style: 'exec' }, { text: ` ${ev.pid}<-${ev.ppid} ` }, { text: ev.comm, style: 'title' },
        { text: ` ${args}${ev.argsTruncated ? ' ...' : ''}${how}` }];
    }
    case 'lost':
      return [time, { text: 'LOST', style: 'alert' }, { text: ` ${ev.count} ${LOST_WHAT[ev.stage]}: healing from /proc` }];
    case 'exit':
      return [time, { text: 'EXIT', style: 'exit' }, { text: ` ${ev.pid}<-${ev.ppid} ` }, { text: ev.comm, style: 'title' },
        { text: ` ${reasonText(endingOfEvent(ev))} after ${formatLifetime(ev.durationMs)}` }];
    case 'fork':
      return [time, { text: 'FORK', style: 'fork' }, { text: ` ${ev.childPid}<-${ev.pid} ` }, { text: ev.comm, style: 'title' }];
  }
}

const LOST_WHAT = {
  kernel_ring: 'events (kernel ring buffer full)',
  addon_queue: 'events (reader queue full)',
  traced_map: 'processes not followed (traced set full)',
} as const;

/**
 * A title line and the window of entries ending `scrollFromBottom` entries before the newest.
 * `entries` is oldest first, as EventLog.entries() returns it.
 */
export function renderLog(
  entries: readonly StreamRecord[], scrollFromBottom: number, width: number, height: number,
  focused: boolean, theme: Theme,
): string {
  const g = theme.glyphs;
  const rows = Math.max(0, height - 1);
  const end = Math.max(0, entries.length - Math.max(0, scrollFromBottom));
  const start = Math.max(0, end - rows);
  const where = scrollFromBottom > 0 ? ` ${scrollFromBottom} newer below ` : '';
  const title = line([
    { text: g.hline.repeat(2) + ' ' },
    { text: 'Events', style: focused ? 'selected' : 'title' },
    { text: ` ${entries.length} ${where}${g.hline.repeat(width)}` },
  ], width, theme);
  const out = [title];
  for (let i = start; i < end; i++) out.push(line(eventSegments(entries[i]), width, theme));
  return out.join('\n');
}
