// Entry point: parse the command line, pick a source and a mode (UI, NDJSON,
// snapshot), and own every exit path: signals, errors, the end of a recording.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseCli, UsageError, USAGE, type CliOptions } from './cliArgs';
import type { EventSource, LifecycleEvent } from './model/types';
import { formatEvent } from './output/ndjson';
import { writeSnapshot } from './output/snapshot';
import { BpfSource } from './source/bpf';
import type { NativeError } from './source/native';
import { ProcSource, seedFromProc } from './source/procfs';
import { Recorder, ReplaySource } from './source/replay';
import { userNames } from './source/users';
import { Session } from './session';

const EXIT_OK = 0;
const EXIT_FAIL = 1;
const EXIT_USAGE = 2;

function version(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

function warn(message: string): void {
  process.stderr.write(`lifetop: ${message}\n`);
}

function makeSource(opts: CliOptions): EventSource {
  if (opts.replayPath !== undefined) {
    return new ReplaySource(opts.replayPath, { speed: opts.replaySpeed, onBadLine: opts.onBadLine, warn });
  }
  if (opts.source === 'proc') return new ProcSource(opts.filter, { intervalMs: opts.intervalMs });
  return new BpfSource({ filter: opts.filter, ringBytes: opts.ringBytes, verbose: opts.verbose });
}

/** Resolves when the run should end: --duration elapsed, or a finite source is done. */
function ending(opts: CliOptions, source: EventSource): Promise<void> {
  const waits: Promise<void>[] = [new Promise(() => undefined)];
  if (opts.durationSec !== undefined) {
    waits.push(new Promise((resolve) => setTimeout(resolve, opts.durationSec! * 1000).unref()));
  }
  if (source.done) waits.push(source.done);
  return Promise.race(waits);
}

/**
 * Signals (Ctrl-C, kill, a dropped SSH session) end the run the same way the clock
 * does. Installed before anything is loaded, so no signal ever finds Node's default
 * (die with the programs attached until the kernel notices): `signalled` resolves
 * with 128 + the signal number, and `onSignal` lets a mode react at once.
 */
let signalHandler: ((code: number) => void) | undefined;
let signalled!: Promise<number>;
let signalCode: number | undefined;

function installSignals(): void {
  signalled = new Promise((resolve) => {
    const fire = (code: number) => {
      signalCode = code;
      signalHandler?.(code);
      resolve(code);
    };
    process.on('SIGINT', () => fire(130));
    process.on('SIGTERM', () => fire(143));
    process.on('SIGHUP', () => fire(129));
  });
}

async function runJson(opts: CliOptions, source: EventSource, recorder?: Recorder): Promise<number> {
  let open = true;
  let count = 0;
  const out = process.stdout;
  out.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') open = false; // reader went away (| head): stop quietly
  });
  source.setFilter(opts.filter); // the kernel has it already; replay and /proc filter here
  source.start((events: LifecycleEvent[]) => {
    recorder?.write(events);
    count += events.length;
    if (!open) return;
    let text = '';
    for (const ev of events) text += formatEvent(ev) + '\n'; // one write per batch
    out.write(text);
  });
  if (source.kind === 'bpf') {
    // Follow exits of already-running matches, without printing them as new.
    source.track(seedFromProc(opts.filter, Date.now()).map((e) => e.pid));
  }
  if (opts.verbose) warn(`tracing ${opts.filterText}${opts.filter.followChildren ? ' and children' : ''} (${source.kind})`);
  const code = await new Promise<number>((resolve) => {
    signalled.then(() => resolve(EXIT_OK)); // Ctrl-C, kill, hang-up: the way to end a stream
    out.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') return resolve(EXIT_OK);
      warn(`cannot write events: ${err.message}`); // a full disk must not look like success
      resolve(EXIT_FAIL);
    });
    ending(opts, source).then(() => resolve(EXIT_OK), (err: Error) => {
      warn(err.message);
      resolve(EXIT_FAIL);
    });
  });
  source.stop();
  if (opts.verbose) {
    const c = source.counters();
    warn(`stopped: events=${count} drops=${c.drops} track_fails=${c.trackFails}`);
  }
  return code;
}

async function runSnapshot(opts: CliOptions, session: Session): Promise<number> {
  session.start();
  const interrupted = await new Promise<boolean>((resolve, reject) => {
    signalled.then(() => resolve(true));
    ending(opts, session.source).then(() => resolve(false), reject);
  });
  session.stop();
  if (interrupted) {
    warn('interrupted: no snapshot written');
    return EXIT_FAIL;
  }
  const now = session.now();
  const rows = session.table.view({ sort: opts.sort, query: '', showExited: true }, now);
  const written = await writeSnapshot(opts.snapshotPath!, rows, { takenAt: now, filter: opts.filterText, sort: opts.sort }, now);
  process.stderr.write(`lifetop: wrote ${rows.length} processes to ${written}\n`);
  return EXIT_OK;
}

async function runInterface(opts: CliOptions, session: Session): Promise<number> {
  // Loaded only here: blessed costs start-up time the headless modes need not pay.
  const { runUi, restoreTerminal, capturedStderr } = await import('./ui/app');
  // A signal restores the terminal, which ends runUi: the same path as `q`, so the
  // session stops and the recording is closed by main's finally.
  signalHandler = () => restoreTerminal();
  try {
    session.start();
    if (signalCode !== undefined) return EXIT_OK; // a signal came while loading: never open the screen
    return await runUi(session, { ascii: opts.ascii, color: opts.color, sort: opts.sort });
  } finally {
    session.stop();
    // While the screen was up stderr was held back: show lifetop's own warnings
    // (e.g. malformed recording lines), and everything under --verbose.
    for (const text of capturedStderr()) {
      if (opts.verbose || text.startsWith('lifetop: ')) process.stderr.write(text);
    }
  }
}

function explain(err: unknown, verbose: boolean): string {
  const e = err as NativeError;
  if (verbose && e.log) process.stderr.write(e.log.endsWith('\n') ? e.log : `${e.log}\n`);
  if (verbose && e.stack) process.stderr.write(`${e.stack}\n`);
  return e.message ?? String(err);
}

export async function main(argv: string[]): Promise<number> {
  installSignals();
  let opts: CliOptions;
  try {
    opts = parseCli(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    warn(`${err.message}\nTry 'lifetop --help'.`);
    return EXIT_USAGE;
  }
  if (opts.mode === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return EXIT_OK;
  }
  if (opts.mode === 'version') {
    process.stdout.write(`lifetop ${version()}\n`);
    return EXIT_OK;
  }
  let recorder: Recorder | undefined;
  // Sources never hold the event loop open (their timers and the addon's callback
  // are unref'd): this does, until the run ends one way or another.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  try {
    recorder = opts.recordPath !== undefined ? await Recorder.open(opts.recordPath) : undefined;
    const source = makeSource(opts);
    if (source.caveat && opts.mode !== 'ui') warn(source.caveat);
    if (opts.mode === 'json') return await runJson(opts, source, recorder);
    const session = new Session(source, {
      filter: opts.filter, retentionMs: opts.retentionMs, maxRows: opts.maxRows, recorder, userName: userNames(),
    });
    return opts.mode === 'snapshot' ? await runSnapshot(opts, session) : await runInterface(opts, session);
  } catch (err) {
    warn(explain(err, opts.verbose));
    return EXIT_FAIL;
  } finally {
    clearInterval(keepAlive);
    await recorder?.close();
  }
}

/** The process entry (bin/lifetop): run, set the exit code, never print a stack unless asked. */
export function run(argv: string[] = process.argv.slice(2)): void {
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      warn(explain(err, argv.includes('--verbose')));
      process.exitCode = EXIT_FAIL;
    },
  );
}

if (require.main === module) run();
