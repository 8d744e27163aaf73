// NDJSON event format (DESIGN.md's contract): one JSON object per line for --json and
// --record, and its validating inverse for --replay.

import {
  EventBase, ExecEvent, ExitEvent, ForkEvent, KilledBy, LifecycleEvent, LOSS_STAGES, LossStage, LostRecord, RecordingHeader,
  SourceKind, StreamRecord,
} from './types';
import { escapeInvisible, hasInvisible, quote } from './quote';
import { EXIT_REASONS, eventReason } from './exitReason';

export { escapeInvisible };

export class RecordingError extends Error {
  override name = 'RecordingError';
}

export function eventToJson(ev: StreamRecord): Record<string, unknown> {
  if (ev.type === 'lost') return lostToJson(ev);
  const out: Record<string, unknown> = {
    type: ev.type, time: iso(ev.time), pid: ev.pid, ppid: ev.ppid, uid: ev.uid, comm: ev.comm,
    start: ev.start, started_at: iso(ev.startedAt), tid: ev.tid, cgroup_id: ev.cgroupId,
  };
  if (ev.cgroup !== undefined) Object.assign(out, { cgroup: ev.cgroup, unit: ev.unit ?? '' });
  if (ev.type === 'exec') {
    Object.assign(out, { filename: ev.filename, args: ev.args, args_truncated: ev.argsTruncated });
    if (ev.seeded) out.seeded = true;
    if (ev.recovered) out.recovered = true;
  } else if (ev.type === 'exit') {
    Object.assign(out, {
      exit_code: ev.exitCode, signal: ev.signal, core_dumped: ev.coreDumped, reason: eventReason(ev),
      killed_by: ev.killedBy ? { pid: ev.killedBy.pid, comm: ev.killedBy.comm, uid: ev.killedBy.uid, kernel: ev.killedBy.kernel } : null,
    });
    if (ev.oom) out.oom_rss_kb = ev.oom.rssKb;
    if (ev.oom?.memcg !== undefined) out.oom_memcg = ev.oom.memcg;
    Object.assign(out, { duration_ms: ev.durationMs, cpu_ms: ev.cpuMs });
    if (ev.unknownStatus) out.unknown_status = true;
    if (ev.inferred) out.inferred = ev.inferred;
    if (ev.seeded) out.seeded = true;
  } else {
    Object.assign(out, { child_pid: ev.childPid, child_start: ev.childStart });
  }
  return out;
}

/**
 * One line, safe to print: JSON escapes C0 controls; DEL, C1, line separators and bidi controls
 * are escaped here too (core/quote). Equal, byte for byte, to
 * escapeInvisible(JSON.stringify(eventToJson(ev))) (a test holds it to that), but built
 * directly: at storm rates this line is most of lifetop's CPU.
 */
export function formatEvent(ev: StreamRecord): string {
  if (ev.type === 'lost') return JSON.stringify(lostToJson(ev));
  let line = '{"type":"' + ev.type + '","time":"' + iso(ev.time) + '","pid":' + num(ev.pid) + ',"ppid":' + num(ev.ppid)
    + ',"uid":' + num(ev.uid) + ',"comm":' + str(ev.comm) + ',"start":' + num(ev.start)
    + ',"started_at":"' + iso(ev.startedAt) + '","tid":' + num(ev.tid) + ',"cgroup_id":' + str(ev.cgroupId);
  if (ev.cgroup !== undefined) line += ',"cgroup":' + str(ev.cgroup) + ',"unit":' + str(ev.unit ?? '');
  if (ev.type === 'exec') {
    line += ',"filename":' + str(ev.filename) + ',"args":[';
    for (let i = 0; i < ev.args.length; i++) line += (i === 0 ? '' : ',') + str(ev.args[i]);
    line += '],"args_truncated":' + ev.argsTruncated;
    if (ev.seeded) line += ',"seeded":true';
    if (ev.recovered) line += ',"recovered":true';
  } else if (ev.type === 'exit') {
    line += ',"exit_code":' + num(ev.exitCode) + ',"signal":' + num(ev.signal) + ',"core_dumped":' + ev.coreDumped
      + ',"reason":"' + eventReason(ev) + '","killed_by":' + killedByLine(ev.killedBy);
    if (ev.oom) line += ',"oom_rss_kb":' + num(ev.oom.rssKb);
    if (ev.oom?.memcg !== undefined) line += ',"oom_memcg":' + str(ev.oom.memcg);
    line += ',"duration_ms":' + num(ev.durationMs) + ',"cpu_ms":' + num(ev.cpuMs);
    if (ev.unknownStatus) line += ',"unknown_status":true';
    if (ev.inferred) line += ',"inferred":"' + ev.inferred + '"';
    if (ev.seeded) line += ',"seeded":true';
  } else {
    line += ',"child_pid":' + num(ev.childPid) + ',"child_start":' + num(ev.childStart);
  }
  return line + '}';
}

function killedByLine(by: KilledBy | undefined): string {
  if (!by) return 'null';
  return '{"pid":' + num(by.pid) + ',"comm":' + str(by.comm) + ',"uid":' + num(by.uid) + ',"kernel":' + by.kernel + '}';
}

function lostToJson(ev: LostRecord): Record<string, unknown> {
  return { type: 'lost', time: iso(ev.time), stage: ev.stage, count: ev.count, since: iso(ev.since), until: iso(ev.until) };
}

/** The first line of a recording. */
export function formatHeader(h: RecordingHeader): string {
  return escapeInvisible(JSON.stringify({
    type: 'header', version: h.version, source: h.source, filter: h.filter, follow_children: h.followChildren,
    boot_time: iso(h.bootTime),
  }));
}

/** A string as the stream writes it: JSON, with the invisible characters \u-escaped too. */
export function jsonString(s: string): string {
  const json = JSON.stringify(s);
  return hasInvisible(json) ? escapeInvisible(json) : json;
}

const str = jsonString;

function num(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null'; // what JSON.stringify writes
}

// Events come in bursts within the same second: format the second once.
let isoSecond = NaN;
let isoPrefix = '';

/** Date.prototype.toISOString, with the seconds part cached. */
function iso(ms: number): string {
  const t = Math.trunc(ms);
  const sec = Math.floor(t / 1000);
  if (!Number.isFinite(t) || t < 0 || t >= 253402300800000) return new Date(ms).toISOString(); // outside 1970..9999
  if (sec !== isoSecond) {
    isoSecond = sec;
    isoPrefix = new Date(sec * 1000).toISOString().slice(0, 20);
  }
  const frac = t - sec * 1000;
  return isoPrefix + (frac < 10 ? '00' : frac < 100 ? '0' : '') + frac + 'Z';
}

/** Parses one recorded line, header and lost records included; throws RecordingError with a short reason. */
export function parseRecord(line: string): StreamRecord | RecordingHeader {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new RecordingError('not valid JSON');
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    if (o.type === 'lost') return new Reader(o).lost();
    if (o.type === 'header') return new Reader(o).header();
  }
  return parseEvent(line, value);
}

/** Parses one recorded event line; throws RecordingError with a short reason. */
export function parseEvent(line: string, parsed?: unknown): LifecycleEvent {
  let value: unknown = parsed;
  if (parsed === undefined) {
    try {
      value = JSON.parse(line);
    } catch {
      throw new RecordingError('not valid JSON');
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RecordingError('not a JSON object');
  const r = new Reader(value as Record<string, unknown>);
  const type = r.get('type');
  if (type === 'exec') return { ...r.base('exec'), ...r.execTail() };
  if (type === 'exit') return { ...r.base('exit'), ...r.exitTail() };
  if (type === 'fork') return { ...r.base('fork'), ...r.forkTail() };
  throw new RecordingError(`unknown event type ${quote(type)}`); // every quoted input goes through quote()
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Typed field access that names the offending field. */
class Reader {
  constructor(private readonly o: Record<string, unknown>) {}

  get(field: string): unknown {
    if (!(field in this.o)) throw new RecordingError(`missing "${field}"`);
    return this.o[field];
  }

  base<T extends LifecycleEvent['type']>(type: T): EventBase & { type: T } {
    const base: EventBase & { type: T } = {
      type, time: this.time('time'), pid: this.int('pid'), ppid: this.int('ppid'), uid: this.int('uid'),
      comm: this.str('comm'), start: this.num('start'), startedAt: this.time('started_at'), tid: this.int('tid'),
      cgroupId: this.cgroupId(),
    };
    // Recordings before 0.3 have neither; unit alone (without cgroup) is kept too.
    if ('cgroup' in this.o) base.cgroup = this.str('cgroup');
    if ('unit' in this.o) base.unit = this.str('unit');
    return base;
  }

  lost(): LostRecord {
    const stage = this.str('stage');
    if (!(LOSS_STAGES as string[]).includes(stage)) throw new RecordingError(`"stage" is not one of ${LOSS_STAGES.join(', ')}`);
    return {
      type: 'lost', time: this.time('time'), stage: stage as LossStage, count: this.int('count'),
      since: this.time('since'), until: this.time('until'),
    };
  }

  header(): RecordingHeader {
    const filter = this.get('filter');
    if (!Array.isArray(filter) || !filter.every((p) => typeof p === 'string')) {
      throw new RecordingError('"filter" is not an array of strings');
    }
    const source = this.str('source');
    if (!['bpf', 'proc', 'replay'].includes(source)) throw new RecordingError('"source" is not bpf, proc or replay');
    return {
      type: 'header', version: this.str('version'), source: source as SourceKind, filter,
      followChildren: this.bool('follow_children'), bootTime: this.time('boot_time'),
    };
  }

  execTail(): Pick<ExecEvent, 'filename' | 'args' | 'argsTruncated' | 'seeded' | 'recovered'> {
    const args = this.get('args');
    if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) {
      throw new RecordingError('"args" is not an array of strings');
    }
    const tail: Pick<ExecEvent, 'filename' | 'args' | 'argsTruncated' | 'seeded' | 'recovered'> = {
      filename: this.str('filename'), args, argsTruncated: this.bool('args_truncated'),
    };
    if ('seeded' in this.o && this.bool('seeded')) tail.seeded = true;
    if ('recovered' in this.o && this.bool('recovered')) tail.recovered = true;
    return tail;
  }

  exitTail(): Omit<ExitEvent, keyof EventBase> {
    const tail: Omit<ExitEvent, keyof EventBase> = {
      exitCode: this.int('exit_code', true), signal: this.int('signal'), coreDumped: this.bool('core_dumped'),
      durationMs: this.num('duration_ms'), cpuMs: this.num('cpu_ms'),
    };
    if ('unknown_status' in this.o && this.bool('unknown_status')) tail.unknownStatus = true;
    if ('seeded' in this.o && this.bool('seeded')) tail.seeded = true;
    if ('inferred' in this.o) {
      const how = this.str('inferred');
      if (how !== 'zombie' && how !== 'vanished') throw new RecordingError('"inferred" is not zombie or vanished');
      tail.inferred = how;
    }
    // reason is derived from the rest (written for readers, checked, not kept); older recordings lack all three.
    if ('reason' in this.o && !(EXIT_REASONS as string[]).includes(this.str('reason'))) {
      throw new RecordingError(`"reason" is not one of ${EXIT_REASONS.join(', ')}`);
    }
    const by = 'killed_by' in this.o ? this.killedBy() : null;
    if (by) tail.killedBy = by;
    if ('oom_rss_kb' in this.o) {
      tail.oom = { rssKb: this.int('oom_rss_kb') };
      if ('oom_memcg' in this.o) tail.oom.memcg = this.str('oom_memcg');
    }
    return tail;
  }

  private killedBy(): KilledBy | null {
    const v = this.get('killed_by');
    if (v === null) return null;
    const o = (typeof v === 'object' && !Array.isArray(v) ? v : {}) as Record<string, unknown>;
    const { pid, comm, uid, kernel } = o;
    if (!isCount(pid) || typeof comm !== 'string' || !isCount(uid) || typeof kernel !== 'boolean') {
      throw new RecordingError('"killed_by" is not null or {pid, comm, uid, kernel}');
    }
    return { pid, comm, uid, kernel };
  }

  forkTail(): Pick<ForkEvent, 'childPid' | 'childStart'> {
    return { childPid: this.int('child_pid'), childStart: this.num('child_start') };
  }

  private int(field: string, signed = false): number {
    const v = this.get(field);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || (!signed && v < 0)) {
      throw new RecordingError(`"${field}" is not ${signed ? 'an' : 'a non-negative'} integer`);
    }
    return v;
  }

  private num(field: string): number {
    const v = this.get(field);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RecordingError(`"${field}" is not a non-negative number`);
    return v;
  }

  private str(field: string): string {
    const v = this.get(field);
    if (typeof v !== 'string') throw new RecordingError(`"${field}" is not a string`);
    return v;
  }

  private bool(field: string): boolean {
    const v = this.get(field);
    if (typeof v !== 'boolean') throw new RecordingError(`"${field}" is not a boolean`);
    return v;
  }

  private time(field: string): number {
    const v = this.str(field);
    const ms = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(v) ? Date.parse(v) : NaN;
    if (Number.isNaN(ms)) throw new RecordingError(`"${field}" is not an ISO-8601 UTC time`);
    return ms;
  }

  private cgroupId(): string {
    const v = this.str('cgroup_id');
    if (!/^\d{1,20}$/.test(v)) throw new RecordingError('"cgroup_id" is not a decimal string');
    return v;
  }
}
