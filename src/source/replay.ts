// Recordings: ReplaySource plays an NDJSON file back as an event source (tests, demos,
// offline use, no root needed); Recorder appends live events to such a file (--record).

import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as readline from 'node:readline';
import { matchComm } from '../model/filter';
import { EventCounter } from '../model/rates';
import { Counters, EventSource, FilterSpec, LifecycleEvent, processKey } from '../model/types';
import { formatEvent, parseEvent, RecordingError } from '../output/ndjson';

export type ReplaySpeed = 'max' | 'realtime' | number;

export interface ReplayOptions {
  /** 'max': as fast as possible; 'realtime': the recorded gaps; a number: the gaps divided by it. */
  speed: ReplaySpeed;
  onBadLine: 'skip' | 'abort';
  warn: (msg: string) => void;
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

  constructor(private readonly path: string, private readonly opts: ReplayOptions) {
    if (typeof opts.speed === 'number' && !(opts.speed > 0 && Number.isFinite(opts.speed))) {
      throw new RangeError(`replay speed must be a positive number, got ${opts.speed}`);
    }
    this.done = new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    this.done.catch(() => undefined); // rejections are for whoever awaits done, never "unhandled"
  }

  start(onEvents: (events: LifecycleEvent[]) => void): void {
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

  /** Applied by the replay itself, so the filter key works offline too. */
  setFilter(filter: FilterSpec): void {
    this.filter = { patterns: [...filter.patterns], followChildren: filter.followChildren };
  }

  counters(): Counters {
    return this.counter.counters();
  }

  track(): void {
    // A recording holds the exits it holds: nothing to mark.
  }

  private async run(onEvents: (events: LifecycleEvent[]) => void): Promise<void> {
    const input = fs.createReadStream(this.path, { encoding: 'utf8' });
    this.input = input;
    const failure: { err: Error | null } = { err: null };
    const lines = readline.createInterface({ input, crlfDelay: Infinity });
    input.on('error', (err) => {
      failure.err = err;
      lines.close();
    });
    const pacer = new Pacer(this.opts.speed, (batch) => this.deliver(batch, onEvents), (ms) => this.sleep(ms));
    try {
      let lineNo = 0;
      for await (const line of lines) {
        lineNo++;
        if (this.stopped) break;
        if (line.trim() === '') continue;
        const ev = this.parse(line, lineNo);
        if (ev) await pacer.add(ev);
      }
    } catch (err) {
      // Depending on timing the read error surfaces here or only through the 'error' event.
      if (err !== failure.err) throw err;
    } finally {
      input.destroy();
    }
    if (failure.err) throw new RecordingError(`cannot read ${this.path}: ${shortReason(failure.err)}`);
    if (!this.stopped) pacer.flush();
  }

  private deliver(batch: LifecycleEvent[], onEvents: (events: LifecycleEvent[]) => void): void {
    const passed = batch.filter((ev) => this.pass(ev));
    if (passed.length === 0 || this.stopped) return;
    this.counter.add(passed);
    onEvents(passed);
  }

  private parse(line: string, lineNo: number): LifecycleEvent | null {
    try {
      return parseEvent(line);
    } catch (err) {
      const msg = `${this.path}:${lineNo}: ${(err as Error).message}`;
      if (this.opts.onBadLine === 'abort') throw new RecordingError(msg);
      this.opts.warn(msg);
      return null;
    }
  }

  /** Mirrors the kernel filter: exec whose comm matches, descendants of traced processes, their exits. */
  private pass(ev: LifecycleEvent): boolean {
    const f = this.filter;
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
      }, ms);
      this.sleeping = { timer, wake };
    });
  }
}

/** Groups events into batches and spaces the batches out as the speed asks. */
class Pacer {
  private batch: LifecycleEvent[] = [];
  private origin: { recorded: number; wall: number } | null = null;

  constructor(
    private readonly speed: ReplaySpeed,
    private readonly deliver: (batch: LifecycleEvent[]) => void,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}

  async add(ev: LifecycleEvent): Promise<void> {
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

/** "ENOENT: no such file or directory, open 'x'" -> "ENOENT: no such file or directory". */
function shortReason(err: Error): string {
  return err.message.split('\n')[0].replace(/, \w+ '.*'$/, '');
}

/** Appends events to an NDJSON recording. */
export class Recorder {
  private error: Error | null = null;
  private closed = false;

  private constructor(private readonly path: string, private readonly out: fs.WriteStream) {
    out.on('error', (err) => {
      this.error ??= err;
    });
  }

  static async open(path: string): Promise<Recorder> {
    try {
      const handle = await fsp.open(path, 'a', 0o644);
      return new Recorder(path, handle.createWriteStream());
    } catch (err) {
      throw new RecordingError(`cannot open recording ${path}: ${shortReason(err as Error)}`);
    }
  }

  write(events: LifecycleEvent[]): void {
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
    if (this.error) throw new RecordingError(`cannot write recording ${this.path}: ${shortReason(this.error)}`);
  }
}
