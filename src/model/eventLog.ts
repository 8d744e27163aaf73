// Bounded ring of the most recent events, for the UI's log pane: memory stays flat
// however many events pass through.

import { StreamRecord } from '../core/types';

export class EventLog {
  private readonly ring: StreamRecord[] = [];
  /** Index of the oldest entry once the ring is full. */
  private head = 0;
  private changes = 0;

  constructor(private readonly capacity = 2000) {
    if (!(capacity >= 1)) throw new RangeError(`event log capacity must be at least 1, got ${capacity}`);
  }

  push(events: StreamRecord[]): void {
    if (events.length === 0) return;
    // Only the newest `capacity` events of a large batch could survive anyway.
    const start = Math.max(0, events.length - this.capacity);
    for (let i = start; i < events.length; i++) {
      if (this.ring.length < this.capacity) {
        this.ring.push(events[i]);
      } else {
        this.ring[this.head] = events[i];
        this.head = (this.head + 1) % this.capacity;
      }
    }
    this.changes++;
  }

  /** Oldest first. */
  entries(): StreamRecord[] {
    return [...this.ring.slice(this.head), ...this.ring.slice(0, this.head)];
  }

  get version(): number {
    return this.changes;
  }

  get size(): number {
    return this.ring.length;
  }
}
