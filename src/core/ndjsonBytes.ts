// The NDJSON stream as bytes: a batch of records straight into one Buffer, equal byte for byte to
// formatEvent(r) + '\n' for each (a test holds it to that). At storm rates --json writes three
// lines per process; building them as strings and encoding the joined text cost most of its CPU
// (string ropes, UTF-8 encoding, and the garbage of both), so plain ASCII goes straight to bytes
// and only a string that needs escaping takes formatEvent's path.
import type { ExitEvent, KilledBy, StreamRecord } from './types';
import { eventReason } from './exitReason';
import { formatEvent, jsonString } from './ndjson';

const INITIAL_BYTES = 64 * 1024;
/** Bytes one UTF-16 unit can become in the worst case: a \uXXXX escape. */
const MAX_BYTES_PER_UNIT = 6;

let buf = Buffer.allocUnsafe(INITIAL_BYTES);
let pos = 0;

function ensure(more: number): void {
  if (pos + more <= buf.length) return;
  const next = Buffer.allocUnsafe(Math.max(buf.length * 2, pos + more));
  buf.copy(next, 0, 0, pos);
  buf = next;
}

/** ASCII text lifetop itself writes (keys, punctuation, digits). */
function ascii(s: string): void {
  ensure(s.length);
  for (let i = 0; i < s.length; i++) buf[pos++] = s.charCodeAt(i);
}

/** A JSON string: printable ASCII other than `"` and `\` as is, anything else as formatEvent writes it. */
function str(s: string): void {
  ensure(s.length * MAX_BYTES_PER_UNIT + 2);
  const at = pos;
  buf[pos++] = 0x22;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
      pos = at + buf.write(jsonString(s), at, 'utf8');
      return;
    }
    buf[pos++] = c;
  }
  buf[pos++] = 0x22;
}

/** What JSON.stringify writes for a number: digits by hand for the common case, a non-negative integer. */
function num(n: number): void {
  if (!(Number.isInteger(n) && n >= 0 && n <= Number.MAX_SAFE_INTEGER)) {
    ascii(Number.isFinite(n) ? String(n) : 'null');
    return;
  }
  let digits = 1;
  for (let v = n; v >= 10; v = Math.floor(v / 10)) digits++;
  ensure(digits);
  let v = n;
  for (let i = pos + digits - 1; i >= pos; i--) {
    const q = Math.floor(v / 10);
    buf[i] = 0x30 + (v - q * 10);
    v = q;
  }
  pos += digits;
}

function bool(b: boolean): void {
  ascii(b ? 'true' : 'false');
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
function iso(ms: number): void {
  const t = Math.trunc(ms);
  if (!Number.isFinite(t) || t < 0 || t >= 253402300800000) {
    ascii('"' + new Date(ms).toISOString() + '"'); // outside 1970..9999 (throws on NaN, as formatEvent does)
    return;
  }
  const sec = Math.floor(t / 1000);
  ascii(isoPrefixOf(sec));
  const frac = t - sec * 1000;
  ensure(5);
  buf[pos++] = 0x30 + Math.floor(frac / 100);
  buf[pos++] = 0x30 + (Math.floor(frac / 10) % 10);
  buf[pos++] = 0x30 + (frac % 10);
  buf[pos++] = 0x5a; // Z
  buf[pos++] = 0x22;
}

function killedBy(by: KilledBy | undefined): void {
  if (!by) {
    ascii('null');
    return;
  }
  ascii('{"pid":');
  num(by.pid);
  ascii(',"comm":');
  str(by.comm);
  ascii(',"uid":');
  num(by.uid);
  ascii(',"kernel":');
  bool(by.kernel);
  ascii('}');
}

function exitTail(ev: ExitEvent): void {
  ascii(',"exit_code":');
  num(ev.exitCode);
  ascii(',"signal":');
  num(ev.signal);
  ascii(',"core_dumped":');
  bool(ev.coreDumped);
  ascii(',"reason":"');
  ascii(eventReason(ev));
  ascii('","killed_by":');
  killedBy(ev.killedBy);
  if (ev.oom) {
    ascii(',"oom_rss_kb":');
    num(ev.oom.rssKb);
    if (ev.oom.memcg !== undefined) {
      ascii(',"oom_memcg":');
      str(ev.oom.memcg);
    }
  }
  ascii(',"duration_ms":');
  num(ev.durationMs);
  ascii(',"cpu_ms":');
  num(ev.cpuMs);
  if (ev.unknownStatus) ascii(',"unknown_status":true');
  if (ev.inferred) ascii(',"inferred":"' + ev.inferred + '"');
  if (ev.seeded) ascii(',"seeded":true');
}

function event(ev: StreamRecord): void {
  if (ev.type === 'lost') {
    ascii(formatEvent(ev)); // rare, and all ASCII
    return;
  }
  ascii('{"type":"');
  ascii(ev.type);
  ascii('","time":');
  iso(ev.time);
  ascii(',"pid":');
  num(ev.pid);
  ascii(',"ppid":');
  num(ev.ppid);
  ascii(',"uid":');
  num(ev.uid);
  ascii(',"comm":');
  str(ev.comm);
  ascii(',"start":');
  num(ev.start);
  ascii(',"started_at":');
  iso(ev.startedAt);
  ascii(',"tid":');
  num(ev.tid);
  ascii(',"cgroup_id":');
  str(ev.cgroupId);
  if (ev.cgroup !== undefined) {
    ascii(',"cgroup":');
    str(ev.cgroup);
    ascii(',"unit":');
    str(ev.unit ?? '');
  }
  if (ev.type === 'exec') {
    ascii(',"filename":');
    str(ev.filename);
    ascii(',"args":[');
    for (let i = 0; i < ev.args.length; i++) {
      if (i > 0) ascii(',');
      str(ev.args[i]);
    }
    ascii('],"args_truncated":');
    bool(ev.argsTruncated);
    if (ev.seeded) ascii(',"seeded":true');
    if (ev.recovered) ascii(',"recovered":true');
  } else if (ev.type === 'exit') {
    exitTail(ev);
  } else {
    ascii(',"child_pid":');
    num(ev.childPid);
    ascii(',"child_start":');
    num(ev.childStart);
  }
  ascii('}');
}

/** The records as NDJSON lines, each ending in '\n', in a Buffer of their own (the caller may keep it). */
export function encodeRecords(records: readonly StreamRecord[]): Buffer {
  pos = 0;
  for (const r of records) {
    event(r);
    ensure(1);
    buf[pos++] = 0x0a;
  }
  const out = Buffer.allocUnsafeSlow(pos);
  buf.copy(out, 0, 0, pos);
  if (buf.length > 16 * INITIAL_BYTES) buf = Buffer.allocUnsafe(INITIAL_BYTES); // one huge batch must not pin memory
  return out;
}
