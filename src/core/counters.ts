// Counters derived from the events themselves, for sources without kernel counters
// (/proc polling, replay): every event of such a source was traced by definition.

import { Counters, LOSS_COUNTER, StreamRecord } from './types';

/** Counts events as a kernel would; every event of such a source was traced by definition. */
export class EventCounter {
  private readonly c: Counters = {
    forks: 0, threads: 0, execs: 0, exits: 0, tracedForks: 0, tracedExecs: 0, tracedExits: 0, drops: 0, trackFails: 0,
    queueDrops: 0,
  };

  /** A recording's lost records count where the kernel's counters would have. */
  add(events: StreamRecord[]): void {
    for (const ev of events) {
      if (ev.type === 'lost') {
        this.c[LOSS_COUNTER[ev.stage]] += ev.count;
      } else if (ev.type === 'fork') {
        this.c.forks++;
        this.c.tracedForks++;
      } else if (ev.type === 'exec') {
        this.c.execs++;
        this.c.tracedExecs++;
      } else {
        this.c.exits++;
        this.c.tracedExits++;
      }
    }
  }

  counters(): Counters {
    return { ...this.c };
  }
}
