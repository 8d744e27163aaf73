// Recordings: ReplaySource plays an NDJSON file back as an event source (tests, demos,
// offline use, no root needed); Recorder appends live events to such a file (--record).

import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import { matchComm } from '../core/filter';
import { EventCounter } from '../core/counters';
import { Counters, EventSource, FilterSpec, processKey, RecordingHeader, StreamRecord } from '../core/types';
import { quotePath } from '../core/quote';
import { formatEvent, formatHeader, parseRecord, RecordingError } from '../core/ndjson';

export type ReplaySpeed = 'max' | 'realtime' | number;

export interface ReplayOptions {
  /** 'max': as fast as possible; 'realtime': the recorded gaps; a number: the gaps divided by it. */
  speed: ReplaySpeed;
  onBadLine: 'skip' | 'abort';
  warn: (msg: string) => void;
}

/** A longer line is not a lifetop record (an exec's args are at most 4 KiB, escaped): stop, naming it. */
const MAX_LINE = 1 << 20;

/**
 * Lines of a byte stream, decoded as UTF-8, without ever holding more than MAX_LINE of one:
 * an over-long line (or /dev/zero) yields `null` instead of a string, once, and ends.
 */
async function* lines(input: AsyncIterable<Buffer>): AsyncGenerator<string | null> {
  let parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    let from = 0;
    for (let nl = chunk.indexOf(10, from); nl !== -1; nl = chunk.indexOf(10, from)) {
      if (size + nl - from > MAX_LINE) return yield null;
      parts.push(chunk.subarray(from, nl));
      yield stripCr(Buffer.concat(parts).toString('utf8'));
      parts = [];
      size = 0;
      from = nl + 1;
    }
    size += chunk.length - from;
    if (size > MAX_LINE) return yield null;
    if (from < chunk.length) parts.push(Buffer.from(chunk.subarray(from)));
  }
  if (size > 0) yield stripCr(Buffer.concat(parts).toString('utf8'));
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

/** Events per batch: big enough to be cheap, small enough to keep a UI responsive. */
const BATCH = 500;
/** Shorter gaps than this are not waited for: those events share a batch. */
const MIN_WAIT_MS = 10;

export class ReplaySource implements EventSource {
  readonly kind = 'replay';
  readonly done: Promise<void>;
  private settle!: { resolve: () => void; reject: (err: Error) => void };
  /** null until setFilter: a recording is already filtered, so everything passes. */
  private filter: FilterSpec | null = null;
  /** Keys of processes traced as the kernel would: matched at exec or followed from a traced parent. */
  private readonly traced = new Set<string>();
  private readonly counter = new EventCounter();
  private started = false;
  private stopped = false;
  private input: fs.ReadStream | null = null;
  private sleeping: { timer: NodeJS.Timeout; wake: () => void } | null = null;
  /** How the recording was made, once its first line is read (null for recordings before headers). */
  header: RecordingHeader | null = null;

  constructor(private readonly path: string, private readonly opts: ReplayOptions) {
    if (typeof opts.speed === 'number' && !(opts.speed > 0 && Number.isFinite(opts.speed))) {
      throw new RangeError(`replay speed must be a positive number, got ${opts.speed}`);
    }
    this.done = new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    this.done.catch(() => undefined); // rejections are for whoever awaits done, never "unhandled"
  }

  start(onEvents: (events: StreamRecord[]) => void): void {
    if (this.started) return;
    this.started = true;
    this.run(onEvents).then(this.settle.resolve, this.settle.reject);
  }

  /** Stops reading; done resolves with what was delivered so far. */
  stop(): void {
    this.stopped = true;
    this.input?.destroy();
    if (this.sleeping) {
      clearTimeout(this.sleeping.timer);
      this.sleeping.wake();
    }
  }

  /** Applied by the replay itself, so the filter key works offline too. Without it, everything recorded passes. */
  setFilter(filter: FilterSpec): void {
    this.filter = { patterns: [...filter.patterns], followChildren: filter.followChildren };
  }

  counters(): Counters {
    return this.counter.counters();
  }

  private async run(onEvents: (events: StreamRecord[]) => void): Promise<void> {
    const input = fs.createReadStream(this.path, { highWaterMark: 1 << 16 });
    this.input = input;
    const pacer = new Pacer(this.opts.speed, (batch) => this.deliver(batch, onEvents), (ms) => this.sleep(ms));
    let lineNo = 0;
    try {
      for await (const line of lines(input)) {
        lineNo++;
        if (this.stopped) break;
        if (typeof line !== 'string') {
          throw new RecordingError(`${quotePath(this.path)}:${lineNo}: line longer than ${MAX_LINE / (1 << 20)} MiB: not a lifetop recording`);
        }
        // A BOM (from an editor) must not cost the first event.
        const text = lineNo === 1 && line.startsWith('\uFEFF') ? line.slice(1) : line;
        if (text.trim() === '') continue;
        const ev = this.parse(text, lineNo);
        if (ev) await pacer.add(ev);
      }
    } catch (err) {
      // Everything before the bad line is delivered, then the replay stops.
      if (!this.stopped) pacer.flush();
      if (err instanceof RecordingError) throw err;
      throw new RecordingError(`cannot read ${quotePath(this.path)}: ${shortReason(err as Error)}`);
    } finally {
      input.destroy();
    }
    if (!this.stopped) pacer.flush();
  }

  private deliver(batch: StreamRecord[], onEvents: (events: StreamRecord[]) => void): void {
    const passed = batch.filter((ev) => this.pass(ev));
    if (passed.length === 0 || this.stopped) return;
    this.counter.add(passed);
    onEvents(passed);
  }

  private parse(line: string, lineNo: number): StreamRecord | null {
    try {
      const rec = parseRecord(line);
      if (rec.type !== 'header') return rec;
      this.header ??= rec; // a recording appended to later has more than one: the first says how it began
      return null;
    } catch (err) {
      // The path is escaped here, the input the reason quotes by the parser (core/quote).
      const msg = `${quotePath(this.path)}:${lineNo}: ${(err as Error).message}`;
      if (this.opts.onBadLine === 'abort') throw new RecordingError(msg);
      this.opts.warn(msg);
      return null;
    }
  }

  /** Mirrors the kernel filter: exec whose comm matches, descendants of traced processes, their exits. */
  private pass(ev: StreamRecord): boolean {
    const f = this.filter;
    if (ev.type === 'lost') return true; // a gap is a gap whatever the filter
    if (ev.type === 'fork') {
      // Without followChildren the child is not traced: its fork would leave a row no exit ever ends.
      const follow = !f || (f.followChildren && this.traced.has(processKey(ev.pid, ev.start)));
      if (follow) this.traced.add(processKey(ev.childPid, ev.childStart));
      return follow;
    }
    const key = processKey(ev.pid, ev.start);
    const pass = !f || this.traced.has(key) || matchComm(f.patterns, ev.comm);
    if (ev.type === 'exit') this.traced.delete(key);
    else if (pass) this.traced.add(key);
    return pass;
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((wake) => {
      const timer = setTimeout(() => {
        this.sleeping = null;
        wake();
      }, Math.min(ms, 2 ** 31 - 1)); // Node's timers hold no more: a longer gap is cut short
      this.sleeping = { timer, wake };
    });
  }
}

/** Groups events into batches and spaces the batches out as the speed asks. */
class Pacer {
  private batch: StreamRecord[] = [];
  private origin: { recorded: number; wall: number } | null = null;

  constructor(
    private readonly speed: ReplaySpeed,
    private readonly deliver: (batch: StreamRecord[]) => void,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}

  async add(ev: StreamRecord): Promise<void> {
    if (this.speed !== 'max') await this.waitFor(ev.time);
    this.batch.push(ev);
    if (this.batch.length >= BATCH) {
      this.flush();
      // Yield to the event loop, so timers and key presses are served between batches.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  flush(): void {
    if (this.batch.length === 0) return;
    const batch = this.batch;
    this.batch = [];
    this.deliver(batch);
  }

  /** Hands over what is due, then waits until the recorded time of the next event. */
  private async waitFor(recorded: number): Promise<void> {
    const factor = this.speed === 'realtime' ? 1 : (this.speed as number);
    if (!this.origin) this.origin = { recorded, wall: Date.now() };
    const wait = this.origin.wall + (recorded - this.origin.recorded) / factor - Date.now();
    if (wait < MIN_WAIT_MS) return;
    this.flush();
    await this.sleep(wait);
  }
}

/**
 * "ENOENT: no such file or directory, open 'x'" -> "ENOENT: no such file or directory": the
 * path, raw and possibly spanning lines, is dropped before the message is cut to one line.
 */
function shortReason(err: Error): string {
  return err.message.replace(/, \w+ '[^]*'$/, '').split('\n')[0];
}

/** Appends records to an NDJSON recording, which starts with a header saying how it was made. */
export class Recorder {
  private error: Error | null = null;
  private closed = false;

  private constructor(private readonly path: string, private readonly out: fs.WriteStream) {
    out.on('error', (err) => {
      this.error ??= err;
    });
  }

  static async open(path: string, header: RecordingHeader): Promise<Recorder> {
    try {
      const handle = await fsp.open(path, 'a', 0o644);
      const recorder = new Recorder(path, handle.createWriteStream());
      recorder.out.write(formatHeader(header) + '\n');
      return recorder;
    } catch (err) {
      throw new RecordingError(`cannot open recording ${quotePath(path)}: ${shortReason(err as Error)}`);
    }
  }

  write(events: StreamRecord[]): void {
    if (events.length === 0 || this.closed || this.error) return;
    this.out.write(events.map(formatEvent).join('\n') + '\n');
  }

  /** Flushes and closes; rejects with a RecordingError if any write failed. */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      if (!this.out.closed) {
        await new Promise<void>((resolve) => {
          this.out.once('close', resolve);
          this.out.end();
        });
      }
    }
    if (this.error) throw new RecordingError(`cannot write recording ${quotePath(this.path)}: ${shortReason(this.error)}`);
  }
}
