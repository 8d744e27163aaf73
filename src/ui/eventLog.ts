// Event log pane: recent lifecycle events, newest at the bottom, scrollable back through the model's
// bounded EventLog; only the visible window is turned into text.

import type { LifecycleEvent } from '../model/types';
import { clockText, formatLifetime, signalName } from './format';
import { line, type Segment } from './text';
import type { Theme } from './theme';

function exitStatus(ev: Extract<LifecycleEvent, { type: 'exit' }>): string {
  // The /proc source cannot see exit codes and says so with unknownStatus.
  if (ev.unknownStatus) return 'exit ?';
  if (ev.signal) return signalName(ev.signal) + (ev.coreDumped ? ' (core)' : '');
  return `exit ${ev.exitCode}`;
}

/** One event as styled segments: time, kind, child<-parent, comm, then args or exit status. */
export function eventSegments(ev: LifecycleEvent): Segment[] {
  const time = { text: clockText(ev.time, 'HH:mm:ss.SSS') + ' ' };
  switch (ev.type) {
    case 'exec': {
      const args = ev.args.length > 0 ? ev.args.join(' ') : ev.filename;
      return [time, { text: 'EXEC', style: 'exec' }, { text: ` ${ev.pid}<-${ev.ppid} ` }, { text: ev.comm, style: 'title' },
        { text: ` ${args}${ev.argsTruncated ? ' ...' : ''}` }];
    }
    case 'exit':
      return [time, { text: 'EXIT', style: 'exit' }, { text: ` ${ev.pid}<-${ev.ppid} ` }, { text: ev.comm, style: 'title' },
        { text: ` ${exitStatus(ev)} after ${formatLifetime(ev.durationMs)}` }];
    case 'fork':
      return [time, { text: 'FORK', style: 'fork' }, { text: ` ${ev.childPid}<-${ev.pid} ` }, { text: ev.comm, style: 'title' }];
  }
}

/**
 * A title line and the window of entries ending `scrollFromBottom` entries before the newest.
 * `entries` is oldest first, as EventLog.entries() returns it.
 */
export function renderLog(
  entries: readonly LifecycleEvent[], scrollFromBottom: number, width: number, height: number,
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
