// The NDJSON stream as bytes: a batch of records straight into one Buffer, equal byte for byte to
// formatEvent(r) + '\n' for each (a test holds it to that). At storm rates --json writes three
// lines per process; building them as strings and encoding the joined text cost most of its CPU
// (string ropes, UTF-8 encoding, and the garbage of both), so plain ASCII goes straight to bytes
// and only a string that needs escaping takes formatEvent's path.
//
// Every writer takes the buffer and a position and returns the new position, so both stay in
// registers; room for a whole line is made once, before it (lineBound), not per field.
import type { ExitEvent, KilledBy, StreamRecord } from './types';
import { eventReason } from './exitReason';
import { formatEvent, jsonString } from './ndjson';

const INITIAL_BYTES = 64 * 1024;
/** Bytes one UTF-16 unit can become in the worst case: a \uXXXX escape. */
const MAX_BYTES_PER_UNIT = 6;
/** A line's keys, punctuation, numbers (25 characters at most each) and dates. */
const FIXED_BOUND = 1024;

let scratch = Buffer.allocUnsafe(INITIAL_BYTES);

/** ASCII text lifetop itself writes (keys, punctuation, digits). */
function ascii(b: Buffer, p: number, s: string): number {
  for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i);
  return p;
}

/** A JSON string: printable ASCII other than `"` and `\` as is, anything else as formatEvent writes it. */
function str(b: Buffer, p: number, s: string): number {
  const at = p;
  b[p++] = 0x22;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return at + b.write(jsonString(s), at, 'utf8');
    b[p++] = c;
  }
  b[p++] = 0x22;
  return p;
}

/** `width` digits of v (0 <= v < 10^width, an int32), zero-padded. */
function digits(b: Buffer, p: number, v: number, width: number): number {
  for (let i = p + width - 1; i >= p; i--) {
    const q = (v / 10) | 0;
    b[i] = 0x30 + (v - q * 10);
    v = q;
  }
  return p + width;
}

function width(v: number): number {
  let w = 1;
  while (v >= 10) {
    v = (v / 10) | 0;
    w++;
  }
  return w;
}

/**
 * What JSON.stringify writes for a number, digits by hand for the common cases: a non-negative
 * integer, and a kernel nanosecond count in ms (durations, CPU times: x / 1e6 for an integer x).
 * For the latter String(n) is x's digits with the point six places in and the trailing zeros
 * dropped, as long as x has at most 15 digits: two decimals of 15 significant digits are farther
 * apart than a double's precision, so the shortest decimal that reads back as n is x / 10^6 itself.
 */
function num(b: Buffer, p: number, n: number): number {
  if (!(n >= 0 && n <= Number.MAX_SAFE_INTEGER && Math.floor(n) === n)) {
    const x = Math.round(n * 1e6);
    if (n > 0 && n < 1e9 && x / 1e6 === n) return millis(b, p, x);
    return ascii(b, p, Number.isFinite(n) ? String(n) : 'null');
  }
  if (n < 1e8) return digits(b, p, n, width(n));
  const hi = Math.floor(n / 1e8); // < 2^53 / 1e8: an int32
  p = digits(b, p, hi, width(hi));
  return digits(b, p, n - hi * 1e8, 8);
}

/** x / 10^6 (0 < x < 10^15, not a multiple of 10^6) as String() writes it. */
function millis(b: Buffer, p: number, x: number): number {
  const whole = Math.floor(x / 1e6); // < 10^9: an int32
  let frac = x - whole * 1e6;
  let w = 6;
  while (frac % 10 === 0) {
    frac /= 10;
    w--;
  }
  p = digits(b, p, whole, width(whole));
  b[p++] = 0x2e; // .
  return digits(b, p, frac, w);
}

function bool(b: Buffer, p: number, v: boolean): number {
  return ascii(b, p, v ? 'true' : 'false');
}

// Events come in bursts within the same second: format the second once. Two seconds are kept, since
// a line's time and its process's start alternate (a long-lived parent's fork).
const isoSecond = [NaN, NaN];
const isoPrefix = ['', ''];
let isoNext = 0;

function isoPrefixOf(sec: number): string {
  if (sec === isoSecond[0]) return isoPrefix[0];
  if (sec === isoSecond[1]) return isoPrefix[1];
  isoNext ^= 1;
  isoSecond[isoNext] = sec;
  isoPrefix[isoNext] = '"' + new Date(sec * 1000).toISOString().slice(0, 20);
  return isoPrefix[isoNext];
}

/** Date.prototype.toISOString in quotes. */
function iso(b: Buffer, p: number, ms: number): number {
  const t = Math.trunc(ms);
  if (!Number.isFinite(t) || t < 0 || t >= 253402300800000) {
    return ascii(b, p, '"' + new Date(ms).toISOString() + '"'); // outside 1970..9999 (throws on NaN, as formatEvent does)
  }
  const sec = Math.floor(t / 1000);
  p = ascii(b, p, isoPrefixOf(sec));
  p = digits(b, p, t - sec * 1000, 3);
  b[p++] = 0x5a; // Z
  b[p++] = 0x22;
  return p;
}

function killedBy(b: Buffer, p: number, by: KilledBy | undefined): number {
  if (!by) return ascii(b, p, 'null');
  p = ascii(b, p, '{"pid":');
  p = num(b, p, by.pid);
  p = ascii(b, p, ',"comm":');
  p = str(b, p, by.comm);
  p = ascii(b, p, ',"uid":');
  p = num(b, p, by.uid);
  p = ascii(b, p, ',"kernel":');
  p = bool(b, p, by.kernel);
  b[p++] = 0x7d; // }
  return p;
}

function exitTail(b: Buffer, p: number, ev: ExitEvent): number {
  p = ascii(b, p, ',"exit_code":');
  p = num(b, p, ev.exitCode);
  p = ascii(b, p, ',"signal":');
  p = num(b, p, ev.signal);
  p = ascii(b, p, ',"core_dumped":');
  p = bool(b, p, ev.coreDumped);
  p = ascii(b, p, ',"reason":"');
  p = ascii(b, p, eventReason(ev));
  p = ascii(b, p, '","killed_by":');
  p = killedBy(b, p, ev.killedBy);
  if (ev.oom) {
    p = ascii(b, p, ',"oom_rss_kb":');
    p = num(b, p, ev.oom.rssKb);
    if (ev.oom.memcg !== undefined) {
      p = ascii(b, p, ',"oom_memcg":');
      p = str(b, p, ev.oom.memcg);
    }
  }
  p = ascii(b, p, ',"duration_ms":');
  p = num(b, p, ev.durationMs);
  p = ascii(b, p, ',"cpu_ms":');
  p = num(b, p, ev.cpuMs);
  if (ev.unknownStatus) p = ascii(b, p, ',"unknown_status":true');
  if (ev.inferred) p = ascii(b, p, ',"inferred":"' + ev.inferred + '"');
  if (ev.seeded) p = ascii(b, p, ',"seeded":true');
  return p;
}

/** The most bytes a record's line (and its newline) can take. */
function lineBound(ev: StreamRecord): number {
  if (ev.type === 'lost') return FIXED_BOUND;
  let units = ev.comm.length + ev.cgroupId.length;
  if (ev.cgroup !== undefined) units += ev.cgroup.length + (ev.unit?.length ?? 0);
  if (ev.type === 'exec') {
    units += ev.filename.length + ev.args.length; // a comma per arg
    for (let i = 0; i < ev.args.length; i++) units += ev.args[i].length;
  } else if (ev.type === 'exit') {
    if (ev.killedBy) units += ev.killedBy.comm.length;
    if (ev.oom?.memcg !== undefined) units += ev.oom.memcg.length;
  }
  return FIXED_BOUND + MAX_BYTES_PER_UNIT * units;
}

function event(b: Buffer, p: number, ev: StreamRecord): number {
  if (ev.type === 'lost') return ascii(b, p, formatEvent(ev)); // rare, and all ASCII
  p = ascii(b, p, '{"type":"');
  p = ascii(b, p, ev.type);
  p = ascii(b, p, '","time":');
  p = iso(b, p, ev.time);
  p = ascii(b, p, ',"pid":');
  p = num(b, p, ev.pid);
  p = ascii(b, p, ',"ppid":');
  p = num(b, p, ev.ppid);
  p = ascii(b, p, ',"uid":');
  p = num(b, p, ev.uid);
  p = ascii(b, p, ',"comm":');
  p = str(b, p, ev.comm);
  p = ascii(b, p, ',"start":');
  p = num(b, p, ev.start);
  p = ascii(b, p, ',"started_at":');
  p = iso(b, p, ev.startedAt);
  p = ascii(b, p, ',"tid":');
  p = num(b, p, ev.tid);
  p = ascii(b, p, ',"cgroup_id":');
  p = str(b, p, ev.cgroupId);
  if (ev.cgroup !== undefined) {
    p = ascii(b, p, ',"cgroup":');
    p = str(b, p, ev.cgroup);
    p = ascii(b, p, ',"unit":');
    p = str(b, p, ev.unit ?? '');
  }
  if (ev.type === 'exec') {
    p = ascii(b, p, ',"filename":');
    p = str(b, p, ev.filename);
    p = ascii(b, p, ',"args":[');
    for (let i = 0; i < ev.args.length; i++) {
      if (i > 0) b[p++] = 0x2c; // ,
      p = str(b, p, ev.args[i]);
    }
    p = ascii(b, p, '],"args_truncated":');
    p = bool(b, p, ev.argsTruncated);
    if (ev.seeded) p = ascii(b, p, ',"seeded":true');
    if (ev.recovered) p = ascii(b, p, ',"recovered":true');
  } else if (ev.type === 'exit') {
    p = exitTail(b, p, ev);
  } else {
    p = ascii(b, p, ',"child_pid":');
    p = num(b, p, ev.childPid);
    p = ascii(b, p, ',"child_start":');
    p = num(b, p, ev.childStart);
  }
  b[p++] = 0x7d; // }
  return p;
}

/** The lines into the scratch buffer (grown as needed); their length. */
function encode(records: readonly StreamRecord[]): number {
  let p = 0;
  for (const r of records) {
    const need = lineBound(r);
    if (p + need > scratch.length) {
      const grown = Buffer.allocUnsafe(Math.max(scratch.length * 2, p + need));
      scratch.copy(grown, 0, 0, p);
      scratch = grown;
    }
    p = event(scratch, p, r);
    scratch[p++] = 0x0a;
  }
  return p;
}

/** One huge batch must not pin its memory. */
function shrink(): void {
  if (scratch.length > 16 * INITIAL_BYTES) scratch = Buffer.allocUnsafe(INITIAL_BYTES);
}

/** The records as NDJSON lines, each ending in '\n', in a Buffer of their own (the caller may keep it). */
export function encodeRecords(records: readonly StreamRecord[]): Buffer {
  const n = encode(records);
  const out = Buffer.allocUnsafeSlow(n);
  scratch.copy(out, 0, 0, n);
  shrink();
  return out;
}

/**
 * The records as NDJSON lines, written to `out` in one write without a copy: when the stream keeps
 * the bytes (a write it could not finish at once, or one behind others), the scratch buffer is
 * theirs and a new one is taken.
 */
export function writeRecords(out: { write(chunk: Uint8Array): unknown; readonly writableLength: number }, records: readonly StreamRecord[]): void {
  const n = encode(records);
  if (n === 0) return;
  out.write(scratch.subarray(0, n));
  if (out.writableLength > 0) scratch = Buffer.allocUnsafe(INITIAL_BYTES);
  else shrink();
}
