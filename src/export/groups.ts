// The bounded `group` label of the metrics: what a process runs (model/label's programOf),
// sanitized, and capped so that a storm of unique names cannot multiply the series. Pure.
import { clean } from '../core/sanitize';
import { programOf } from '../model/label';
import type { ProcessRow } from '../core/types';

/** The group every name past the cap is counted under. */
export const OTHER = 'other';
/** Label values are cut to this many characters (a script path can be long). */
const MAX_LABEL = 64;

/** A label value from untrusted text: control characters escaped (core/sanitize), bounded, never empty. */
export function labelValue(raw: string): string {
  const text = clean(raw);
  if (text === '') return '-';
  return text.length > MAX_LABEL ? text.slice(0, MAX_LABEL - 1) + '~' : text;
}

/** A row's group before the cap: its program (the comm of an exit that never had a row). */
export function groupName(row: Pick<ProcessRow, 'comm' | 'label' | 'filename' | 'args'>): string {
  return labelValue(programOf(row));
}

/**
 * First come, first kept: a group once admitted keeps its series for the life of the process
 * (a counter that vanished and came back would read as a reset). Past `max` distinct keys, every
 * new one is counted as OTHER.
 */
export class GroupCap {
  private readonly admitted = new Set<string>();
  /** Processes counted as OTHER because the cap was full. */
  overflowed = 0;

  constructor(readonly max: number) {}

  get size(): number {
    return this.admitted.size;
  }

  /** `key` itself when admitted (or there is room), else OTHER. `count`: tally an overflow. */
  admit(key: string, count = true): string {
    if (this.admitted.has(key)) return key;
    if (this.admitted.size < this.max) {
      this.admitted.add(key);
      return key;
    }
    if (count) this.overflowed++;
    return OTHER;
  }
}
