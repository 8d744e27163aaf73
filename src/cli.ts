// Entry point: parse the command line, pick a source and a mode (UI, NDJSON,
// snapshot), and own every exit path: signals, errors, the end of a recording.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseCli, UsageError, USAGE, type CliOptions } from './cliArgs';
import type { EventSource, LostRecord, RecordingHeader, StreamRecord } from './core/types';
import type { MetricsServer } from './export/server';
import { commandEndText } from './core/exitReason';
import { isHangup, releaseDeadTerminal } from './hangup';
import { invokingUser, LaunchedCommand, LaunchError, resolveCommand, type LaunchOptions } from './launch';
import { writeRecords } from './core/ndjsonBytes';
import { writeSnapshot } from './output/snapshot';
import { BpfSource, bpfRunStats, DeferredBpfSource } from './source/bpf';
import { loadAddon, type NativeError } from './source/native';
import { bootTimeMs, canLoadBpf } from './source/procfs';
import { ProcSource } from './source/procSource';
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
  // The UI draws its first frame before the programs are verified, when it can expect them to load
  // (a missing privilege still fails before the screen opens, as one line).
  if (opts.mode === 'ui' && opts.source === 'bpf' && opts.replayPath === undefined && !opts.metrics && !launched && canLoadBpf()) {
    return new DeferredBpfSource({ filter: opts.filter, ringBytes: opts.ringBytes, verbose: opts.verbose, exitProgram: exitProgram() });
  }
  if (opts.replayPath !== undefined) {
    return new ReplaySource(opts.replayPath, { speed: opts.replaySpeed, onBadLine: opts.onBadLine, warn });
  }
  if (opts.source === 'proc') return new ProcSource(opts.filter, { intervalMs: opts.intervalMs });
  return new BpfSource({ filter: opts.filter, ringBytes: opts.ringBytes, verbose: opts.verbose, exitProgram: exitProgram() });
}

/** Hidden: LIFETOP_EXIT_PROGRAM=live loads the exit program of kernels before 6.16, so it is tested here too. */
function exitProgram(): 'auto' | 'live' | 'group_dead' {
  const v = process.env.LIFETOP_EXIT_PROGRAM;
  return v === 'live' || v === 'group_dead' ? v : 'auto';
}

function header(opts: CliOptions): RecordingHeader {
  return {
    type: 'header', version: version(), source: opts.source, filter: opts.filter.patterns,
    followChildren: opts.filter.followChildren, bootTime: bootTimeMs(),
  };
}

/** Resolves when the run should end: --duration elapsed, a finite source is done, or COMMAND ended. */
function ending(opts: CliOptions, source: EventSource): Promise<void> {
  const waits: Promise<void>[] = [new Promise(() => undefined)];
  if (launched) waits.push(launched.ended.then(() => undefined));
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
/** Launch mode: COMMAND, once started. */
let launched: LaunchedCommand | undefined;

/**
 * When a signal ends a headless run. In launch mode the first SIGTERM or SIGHUP is passed on to
 * COMMAND (a terminal's Ctrl-C reaches it directly, as it reaches lifetop) and the run ends with
 * COMMAND; a second signal stops COMMAND and ends the run.
 */
function stopSignal(): Promise<number> {
  if (!launched) return signalled;
  const command = launched;
  let count = 0;
  return new Promise((resolve) => {
    const handle = (code: number) => {
      count++;
      if (count === 1) {
        if (code !== 130) command.signal(code === 143 ? 'SIGTERM' : 'SIGHUP');
        return;
      }
      void command.stop();
      resolve(code);
    };
    signalHandler = handle;
    if (signalCode !== undefined) handle(signalCode); // one came while loading
  });
}

function installSignals(): void {
  signalled = new Promise((resolve) => {
    const fire = (code: number) => {
      signalCode = code;
      signalHandler?.(code);
      resolve(code);
    };
    const codes = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
    type Sig = keyof typeof codes;
    // The launcher (bin/lifetop) listens from its first line and holds what came while modules loaded.
    const launcher = (globalThis as { lifetopSignals?: { held: Sig[]; forward: ((sig: Sig) => void) | null } }).lifetopSignals;
    if (launcher) {
      launcher.forward = (sig) => fire(codes[sig]);
      if (launcher.held.length > 0) fire(codes[launcher.held[0]]);
    } else {
      for (const sig of Object.keys(codes) as Sig[]) process.on(sig, () => fire(codes[sig]));
    }
  });
}

/** The file itself, through links: its device and inode when it exists, else its resolved path. */
function identity(file: string): string {
  try {
    const st = fs.statSync(file);
    return `${st.dev}:${st.ino}`;
  } catch {
    try {
      return path.join(fs.realpathSync(path.dirname(path.resolve(file))), path.basename(file));
    } catch {
      return path.resolve(file);
    }
  }
}

/** A recording must never be its own input, nor be replaced by the snapshot. */
function checkDistinctFiles(opts: CliOptions): void {
  if (opts.recordPath === undefined) return;
  const rec = identity(opts.recordPath);
  if (opts.replayPath !== undefined && identity(opts.replayPath) === rec) {
    throw new UsageError('--record and --replay name the same file: it would read its own output forever');
  }
  if (opts.snapshotPath !== undefined && identity(opts.snapshotPath) === rec) {
    throw new UsageError('--record and --snapshot name the same file: the snapshot would replace the recording');
  }
}

/**
 * Calls `gone` when stdout is a pipe whose reader went away (`| head -1`): noticed within a
 * quarter second, not at the next event, which may never come.
 */
function watchReader(gone: () => void): void {
  let readerGone: (fd: number) => boolean;
  try {
    if (!fs.fstatSync(1).isFIFO()) return;
    readerGone = loadAddon().readerGone;
  } catch {
    return; // not a pipe we can look at: EPIPE at the next write still ends the run
  }
  const timer = setInterval(() => {
    if (!readerGone(1)) return;
    clearInterval(timer);
    gone();
  }, 250);
  timer.unref();
}

/** The --verbose line tests wait for: what is traced, from which source (and which exit program). */
function tracingLine(opts: CliOptions, session: Session): string {
  const src = session.source;
  const how = src instanceof BpfSource ? `bpf, exit program ${src.stats().exitProgram}` : src.kind;
  return `tracing ${session.filterText()}${opts.filter.followChildren ? ' and children' : ''} (${how})`;
}

async function runJson(opts: CliOptions, session: Session): Promise<number> {
  let count = 0;
  const out = process.stdout;
  /** Set once stdout can take no more: its reader went away (0) or a write failed (1). */
  let outcome: number | null = null;
  const stdoutDone = new Promise<number>((resolve) => {
    const end = (code: number, why?: string) => {
      if (outcome !== null) return;
      if (why) warn(`cannot write events: ${why}`); // a full disk must not look like success
      outcome = code;
      resolve(code);
    };
    out.on('error', (err: NodeJS.ErrnoException) => {
      // The reader went away (| head) or the terminal hung up: the way a stream ends, quietly.
      if (err.code === 'EPIPE' || err.code === 'EIO') end(EXIT_OK);
      else end(EXIT_FAIL, err.message);
    });
    watchReader(() => end(EXIT_OK));
  });
  const fault = new Promise<number>((resolve) => session.on('fault', (message: string) => {
    warn(message);
    resolve(EXIT_FAIL);
  }));
  session.on('records', (records: StreamRecord[]) => {
    count += records.length;
    if (outcome !== null || records.length === 0) return;
    writeRecords(out, records); // one write per batch, bytes built directly
  });
  session.start();
  if (opts.verbose) warn(tracingLine(opts, session));
  const code = await Promise.race([
    stdoutDone,
    fault,
    stopSignal().then(() => EXIT_OK), // Ctrl-C, kill, hang-up: the way to end a stream
    ending(opts, session.source).then(() => EXIT_OK, (err: Error) => {
      warn(err.message);
      return EXIT_FAIL;
    }),
  ]);
  session.stop(); // hands over what the source still had, and the final loss records
  if (outcome === null) {
    // The last write's error may come after the run "ended": a failed write is exit 1, always.
    const err = await new Promise<Error | null | undefined>((resolve) => out.write('', resolve));
    await new Promise(setImmediate); // let the stream's 'error' event run first
    if (err && outcome === null) outcome = EXIT_FAIL;
  }
  if (opts.verbose) {
    const loss = session.loss();
    warn(`stopped: records=${count} lost kernel_ring=${loss.kernel_ring} addon_queue=${loss.addon_queue} traced_map=${loss.traced_map}`);
  }
  return outcome === EXIT_FAIL ? EXIT_FAIL : code;
}

async function runSnapshot(opts: CliOptions, session: Session): Promise<number> {
  session.start();
  if (opts.verbose) warn(tracingLine(opts, session));
  let interrupted: boolean;
  try {
    interrupted = await new Promise<boolean>((resolve, reject) => {
      stopSignal().then(() => resolve(true));
      session.on('fault', (message: string) => reject(new Error(message)));
      ending(opts, session.source).then(() => resolve(false), reject);
    });
  } finally {
    session.stop(); // on a failure too: the recording gets everything the source had
  }
  if (interrupted) {
    warn('interrupted: no snapshot written');
    return EXIT_FAIL;
  }
  session.reconcileNow(); // the table as /proc shows it at the moment of writing
  const now = session.now();
  const rows = session.table.view({ sort: opts.sort, query: '', showExited: true, units: session.units }, now);
  const meta = { takenAt: now, filter: session.filterText(), sort: opts.sort, counters: session.snapshotCounters() };
  const written = await writeSnapshot(opts.snapshotPath!, rows, meta, now);
  process.stderr.write(`lifetop: wrote ${rows.length} processes to ${written}\n`);
  return EXIT_OK;
}

/** One line per loss, for a service's log: what was lost, where, and what to do about it. */
function lostLine(r: LostRecord): string {
  if (r.stage === 'traced_map') return `${r.count} processes not traced: the kernel's traced set was full`;
  if (r.stage === 'addon_queue') return `lost ${r.count} events: lifetop fell more than its queue behind the kernel`;
  return `lost ${r.count} events: the kernel ring buffer was full (raise --ring-size)`;
}

/**
 * --serve: nothing on stdout, one line on stderr per problem (a loss, a fault, a bad recording line),
 * until a signal (SIGTERM from systemd) or --duration. A replay that ends leaves its metrics up.
 */
async function runServe(opts: CliOptions, session: Session): Promise<number> {
  const never = new Promise<number>(() => undefined);
  session.on('records', (records: StreamRecord[]) => {
    for (const r of records) if (r.type === 'lost') warn(lostLine(r));
  });
  const fault = new Promise<number>((resolve) => session.on('fault', (message: string) => {
    warn(message);
    resolve(EXIT_FAIL);
  }));
  session.start();
  if (opts.verbose) warn(tracingLine(opts, session));
  const failed = session.source.done?.then(() => never, (err: Error) => {
    warn(err.message);
    return EXIT_FAIL;
  }) ?? never;
  const elapsed = opts.durationSec === undefined ? never
    : new Promise<number>((resolve) => setTimeout(() => resolve(EXIT_OK), opts.durationSec! * 1000).unref());
  const command = launched ? launched.ended.then(() => EXIT_OK) : never; // launch mode ends with COMMAND
  const code = await Promise.race([fault, failed, elapsed, command, stopSignal().then(() => EXIT_OK)]);
  session.stop();
  return code;
}

/** --metrics: bound before the session starts, so a taken port fails the run before anything is traced. */
async function startMetrics(opts: CliOptions, session: Session): Promise<MetricsServer> {
  // Loaded only here: prom-client costs start-up time a run without --metrics need not pay.
  const [{ Metrics }, { serveMetrics }] = await Promise.all([import('./export/metrics'), import('./export/server')]);
  const src = session.source;
  const metrics = new Metrics(session, {
    maxGroups: opts.metricsMaxGroups, unitLabel: opts.metricsUnit,
    info: { version: version(), source: src.kind, exitProgram: src instanceof BpfSource ? src.stats().exitProgram : 'none' },
    bpfRunStats: src instanceof BpfSource ? bpfRunStats : undefined,
  });
  const server = await serveMetrics(metrics, opts.metrics!, warn);
  if (opts.verbose) warn(`metrics on http://${server.address}/metrics`);
  return server;
}

/**
 * The UI draws on a terminal and reads keys from it: redirected (`lifetop > file`, cron) it would fill
 * the file with escape codes and run unseen. Checked before anything is loaded; the message says what to use.
 */
function missingTerminal(): string | null {
  const which = !process.stdout.isTTY ? 'stdout' : !process.stdin.isTTY ? 'stdin' : null;
  if (!which) return null;
  return `the full-screen UI needs a terminal (${which} is not one): use --json for an event stream or --snapshot FILE for a table`;
}

/** True once the replay file can be read; false when it cannot (its source then fails the same way, soon). */
async function replayOpens(file: string): Promise<boolean> {
  try {
    const st = await fs.promises.stat(file);
    if (st.isDirectory()) return false;
    // Only a plain file is opened here: opening a FIFO would wait for its writer, reading one would eat input.
    if (st.isFile()) await (await fs.promises.open(file, 'r')).close();
    return true;
  } catch {
    return false;
  }
}

async function runInterface(opts: CliOptions, session: Session): Promise<number> {
  // Loaded only here: blessed costs start-up time the headless modes need not pay.
  const { runUi, restoreTerminal, capturedStderr } = await import('./ui/app');
  // A signal restores the terminal, which ends runUi: the same path as `q`, so the
  // session stops and the recording is closed by main's finally.
  signalHandler = () => restoreTerminal();
  // A source that fails (a replay's bad line under --on-bad-line abort, an unreadable file) ends the UI
  // as it ends a headless run: the screen closes, main prints the one line, exit 1.
  let failed: Error | undefined;
  let running = true;
  session.source.done?.catch((err: Error) => {
    if (!running) return; // stopping the source after the UI ended is not a failure
    failed = err;
    restoreTerminal();
  });
  // The kernel source is loaded once the first frame is out ("attaching…"); one that fails then
  // closes the screen and ends the run as a failure to load before it would have.
  const deferred = session.source instanceof DeferredBpfSource && !session.source.loaded;
  const attach = (): void => {
    if (!running || signalCode !== undefined) return; // the UI already ended: nothing to attach for
    try {
      session.start();
    } catch (err) {
      failed = err as Error;
      restoreTerminal();
    }
  };
  try {
    if (!deferred) session.start();
    // A recording that cannot be read fails here, before the screen opens.
    if (opts.replayPath !== undefined && !(await replayOpens(opts.replayPath))) await session.source.done;
    if (failed) throw failed;
    if (signalCode !== undefined) return EXIT_OK; // a signal came while loading: never open the screen
    const code = await runUi(session, {
      ascii: opts.ascii, color: opts.color, sort: opts.sort, command: launched, ...(deferred ? { onFirstFrame: attach } : {}),
    });
    if (failed) throw failed;
    return code;
  } finally {
    running = false;
    session.stop();
    // While the screen was up stderr was held back: show lifetop's own warnings
    // (e.g. malformed recording lines), and everything under --verbose.
    for (const text of capturedStderr()) {
      if (opts.verbose || text.startsWith('lifetop: ')) process.stderr.write(text);
    }
    if (session.fault) warn(session.fault);
  }
}

function explain(err: unknown, verbose: boolean): string {
  const e = err as NativeError;
  if (verbose && e.log) process.stderr.write(e.log.endsWith('\n') ? e.log : `${e.log}\n`);
  if (verbose && e.stack) process.stderr.write(`${e.stack}\n`);
  return e.message ?? String(err);
}

export async function main(argv: string[]): Promise<number> {
  const code = await runMain(argv);
  return launched ? endLaunch(code) : code;
}

async function runMain(argv: string[]): Promise<number> {
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
  try {
    checkDistinctFiles(opts);
  } catch (err) {
    warn(`${(err as Error).message}\nTry 'lifetop --help'.`);
    return EXIT_USAGE;
  }
  const noTerminal = opts.mode === 'ui' ? missingTerminal() : null;
  if (noTerminal) {
    warn(noTerminal);
    return EXIT_USAGE;
  }
  let recorder: Recorder | undefined;
  let metrics: MetricsServer | undefined;
  // Sources never hold the event loop open (their timers and the addon's callback
  // are unref'd): this does, until the run ends one way or another.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  try {
    // Launch mode: -f narrows the tree shown ("*" shows all of it), read before the filter becomes the tree.
    const narrow = opts.command && opts.filterGiven && !opts.filter.patterns.includes('*') ? opts.filter.patterns : null;
    if (opts.command) {
      launched = await launch(opts);
      // The kernel traces exactly COMMAND's tree; -f narrows what of it is shown.
      opts = { ...opts, filter: { patterns: [], followChildren: true, pids: [launched.pid] } };
    }
    recorder = opts.recordPath !== undefined ? await Recorder.open(opts.recordPath, header(opts)) : undefined;
    const source = makeSource(opts);
    if (source.caveat && opts.mode !== 'ui') warn(source.caveat);
    const session = new Session(source, {
      // A recording replays whole unless -f narrows it: it was filtered when it was made.
      filter: source.kind === 'replay' && !opts.filterGiven ? null : opts.filter,
      retentionMs: opts.retentionMs, maxRows: opts.maxRows, recorder, userName: userNames(), units: opts.units,
      stream: opts.mode === 'json',
      ...(launched ? { launch: { narrow } } : {}),
    });
    if (opts.metrics) metrics = await startMetrics(opts, session);
    if (launched) {
      session.start(); // attached, and COMMAND's held process tracked...
      launched.release(); // ...so its first exec is seen
    }
    if (opts.mode === 'serve') return await runServe(opts, session);
    if (opts.mode === 'json') return await runJson(opts, session);
    return opts.mode === 'snapshot' ? await runSnapshot(opts, session) : await runInterface(opts, session);
  } catch (err) {
    if (err instanceof LaunchError) {
      warn(err.message);
      return err.status;
    }
    warn(explain(err, opts.verbose));
    return EXIT_FAIL;
  } finally {
    clearInterval(keepAlive);
    metrics?.close();
    await recorder?.close();
  }
}

/** Starts COMMAND held: as the user who ran sudo unless --as-root; where its output goes depends on the mode. */
async function launch(opts: CliOptions): Promise<LaunchedCommand> {
  const [command, ...args] = opts.command!;
  const user = invokingUser(process.env, opts.asRoot);
  const file = resolveCommand(command, process.env);
  if (opts.mode === 'ui') {
    // The screen is lifetop's: COMMAND's output goes to a log the status bar names.
    const log = commandLogPath();
    const fd = fs.openSync(log, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
    if (user) {
      fs.fchownSync(fd, user.uid, user.gid);
      fs.chownSync(path.dirname(log), user.uid, user.gid);
    }
    commandLog = log;
    try {
      const started = await LaunchedCommand.start([file, ...args], { detached: true, stdio: { stdin: 'ignore', stdout: fd, stderr: fd }, user });
      started.log = log;
      return started;
    } finally {
      fs.closeSync(fd); // COMMAND has its own copy
    }
  }
  // --json owns stdout: COMMAND's goes to stderr, so the stream stays NDJSON.
  const stdio: LaunchOptions['stdio'] = { stdin: 'inherit', stdout: opts.mode === 'json' ? 'stderr' : 'inherit', stderr: 'inherit' };
  return LaunchedCommand.start([file, ...args], { detached: false, stdio, user });
}

/** Where COMMAND's output goes in the UI. */
let commandLog: string | undefined;

/** A file of its own in a new private directory: nothing there can be a link planted in advance. */
function commandLogPath(): string {
  return path.join(fs.mkdtempSync(path.join(process.env.TMPDIR || '/tmp', 'lifetop-command-')), 'output.log');
}

/**
 * The run is over: COMMAND is stopped if it still runs (SIGTERM, then SIGKILL), and a headless run
 * exits with its status, as a shell would, unless lifetop itself failed.
 */
async function endLaunch(code: number): Promise<number> {
  const end = await launched!.stop();
  if (commandLog !== undefined) {
    process.stderr.write(`lifetop: ${commandEndText(end)}; its output is in ${commandLog}\n`);
    return code;
  }
  return code === EXIT_FAIL || code === EXIT_USAGE ? code : end.status;
}

/**
 * The terminal can go away under any mode (a dropped SSH connection closes the pty): lifetop then ends
 * quietly. A write to stderr that meets the hang-up is not an error (the modes watch stdout themselves),
 * and at exit the dead terminal is let go, or Node 20 aborts trying to reset its modes.
 */
function guardStdio(): void {
  process.stderr.on('error', (err: NodeJS.ErrnoException) => {
    if (!isHangup(err)) throw err;
    releaseDeadTerminal();
  });
  process.once('exit', releaseDeadTerminal);
}

/** The process entry (bin/lifetop): run, set the exit code, never print a stack unless asked. */
export function run(argv: string[] = process.argv.slice(2)): void {
  guardStdio();
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
