// Command-line contract (DESIGN.md "CLI contract"): parse argv into validated
// options, or a UsageError with a one-line message (exit code 2). Pure.
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { quote } from './core/quote';
import { DEFAULT_FILTER, FilterError, formatFilter, parseFilter, parseUnitFilter } from './core/filter';
import type { FilterSpec, SourceKind } from './core/types';
import { SORT_COLUMNS, type SortColumn, type SortSpec } from './model/processTable';
import { formatFor } from './output/snapshot';
import type { ReplaySpeed } from './source/replay';

export type Mode = 'ui' | 'json' | 'snapshot' | 'serve' | 'help' | 'version';

export interface CliOptions {
  mode: Mode;
  filter: FilterSpec;
  filterText: string;
  /** -f was given (a replay is otherwise shown unfiltered). */
  filterGiven: boolean;
  /** --unit: unit patterns (user space), null when not given. */
  units: string[] | null;
  snapshotPath?: string;
  durationSec?: number;
  recordPath?: string;
  replayPath?: string;
  replaySpeed: ReplaySpeed;
  onBadLine: 'skip' | 'abort';
  source: SourceKind;
  intervalMs: number;
  retentionMs: number;
  maxRows: number;
  ringBytes: number;
  sort: SortSpec;
  ascii: boolean;
  color: boolean;
  verbose: boolean;
  /** Launch mode: `-- COMMAND [ARGS...]`, run held until traced. */
  command?: string[];
  /** --as-root: run COMMAND as root under sudo, not as the invoking user. */
  asRoot: boolean;
  /** --metrics: where to serve Prometheus metrics (host undefined: every address), absent when not asked. */
  metrics?: ListenAddress;
  /** --metrics-max-groups: distinct `group` label values before the rest count as "other". */
  metricsMaxGroups: number;
  /** --metrics-unit: a `unit` label beside `group`. */
  metricsUnit: boolean;
}

export interface ListenAddress {
  /** undefined: every address (":PORT"). */
  host: string | undefined;
  port: number;
  /** As the user wrote it, normalised: "127.0.0.1:9464", "[::1]:9464", ":9464". */
  text: string;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export const USAGE = `Usage: lifetop [options] [-- COMMAND [ARGS...]]
Live monitor of process lifecycles (fork, exec, exit) from eBPF.

  -- COMMAND [ARGS...]   launch mode: run COMMAND, held until the probes are attached, and trace
                         exactly its process tree from its first exec (-f narrows what is shown);
                         headless modes end with it and exit with its status (128+N for signal N);
                         under sudo it runs as the invoking user (SUDO_UID/SUDO_GID)
      --as-root          under sudo, run COMMAND as root instead

  -f, --filter LIST      comm patterns to trace, comma-separated: "python*,uvicorn"
                         (default "${DEFAULT_FILTER}"); "*" traces every process
      --no-children      do not follow descendants of matched processes
      --pid PID[,PID...] trace these processes and their descendants from now on (whatever their
                         comm; only them unless -f is given too)
      --unit LIST        only processes whose cgroup unit/container matches, same syntax:
                         "nginx.service,7f3a*" (systemd unit or scope, container id, pod uid)
      --json             headless: print one JSON object per event (NDJSON) on stdout
      --snapshot FILE    headless: collect, write the table to FILE (.json, .csv, .txt), exit
      --serve            headless service: no terminal output, runs until SIGTERM; each problem is
                         one line on stderr (use with --metrics or --record)
      --metrics [ADDR:]PORT  serve Prometheus metrics at http://ADDR:PORT/metrics beside any mode;
                         ADDR is 127.0.0.1 unless given, ":PORT" listens on every address.
                         There is no authentication: bind another address only behind a firewall
      --metrics-max-groups N  distinct "group" label values (comm or python program) before the
                         rest are counted as "other" (default 200)
      --metrics-unit     also label metrics by unit/container (counts toward the same cap)
      --duration SECS    stop after SECS (headless modes; default for --snapshot: 2, or the
                         end of the recording with --replay)
      --sort COL[:asc|:desc]  table order for --snapshot and the UI's start
                         (${SORT_COLUMNS.join(', ')}; default started:desc)
      --record FILE      also append every event to FILE as NDJSON
      --replay FILE      read events from a recording instead of the kernel (no root needed)
      --replay-speed S   max, realtime or a factor like 10 (default: max for --json and --snapshot,
                         else realtime)
      --on-bad-line A    malformed recording line: skip (warn, default) or abort
      --source bpf|proc  event source (default bpf; proc polls /proc, for non-root users)
      --interval SECS    /proc polling interval (default 0.5)
      --retention SECS   keep exited processes in the table this long (default 10; in launch
                         mode, for the whole run)
      --max-rows N       table bound, oldest exited rows go first (default 50000)
      --ring-size MIB    kernel ring buffer size, a power of two from 1/256 to 1024 (default 2)
      --ascii            ASCII-only drawing (no Unicode blocks or arrows)
      --no-color         no colours (also when NO_COLOR is set)
      --verbose          stack traces and the kernel verifier log on errors
  -h, --help             this help
      --version          print the version`;

export const OPTIONS = {
  filter: { type: 'string', short: 'f' },
  pid: { type: 'string' },
  'no-children': { type: 'boolean' },
  unit: { type: 'string' },
  json: { type: 'boolean' },
  snapshot: { type: 'string' },
  serve: { type: 'boolean' },
  metrics: { type: 'string' },
  'metrics-max-groups': { type: 'string' },
  'metrics-unit': { type: 'boolean' },
  duration: { type: 'string' },
  sort: { type: 'string' },
  record: { type: 'string' },
  replay: { type: 'string' },
  'replay-speed': { type: 'string' },
  'on-bad-line': { type: 'string' },
  source: { type: 'string' },
  interval: { type: 'string' },
  retention: { type: 'string' },
  'max-rows': { type: 'string' },
  'ring-size': { type: 'string' },
  ascii: { type: 'boolean' },
  'no-color': { type: 'boolean' },
  verbose: { type: 'boolean' },
  'as-root': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

function positive(name: string, text: string | undefined, fallback: number, bounds: { min?: number; max?: number; unit?: string } = {}): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new UsageError(`--${name} needs a positive number, got ${quote(text)}`);
  }
  const unit = bounds.unit ? ` ${bounds.unit}` : '';
  if (bounds.min !== undefined && n < bounds.min) throw new UsageError(`--${name} must be at least ${bounds.min}${unit}, got ${quote(text)}`);
  if (bounds.max !== undefined && n > bounds.max) throw new UsageError(`--${name} must be at most ${bounds.max}${unit}, got ${quote(text)}`);
  return n;
}

/** Node's timers hold at most 2^31-1 ms; a longer wait fires at once. */
const MAX_TIMER_SEC = Math.floor((2 ** 31 - 1) / 1000);

/**
 * parseArgs reads "--duration -1" as a missing value followed by an option: join a value that
 * looks like a number to its option, so the user hears what is wrong with the number.
 */
function joinNegativeValues(argv: string[]): string[] {
  const takesValue = new Set(Object.entries(OPTIONS).filter(([, o]) => o.type === 'string')
    .flatMap(([name, o]) => ['--' + name, ...('short' in o ? ['-' + o.short] : [])]));
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (takesValue.has(argv[i]) && i + 1 < argv.length && /^-[\d.]/.test(argv[i + 1])) {
      out.push(`${argv[i]}=${argv[i + 1]}`);
      i++;
    } else {
      out.push(argv[i]);
    }
  }
  return out;
}

/** "42,4242": process ids, each a positive integer. */
function parsePids(text: string): number[] {
  const pids = text.split(',').map((p) => p.trim());
  if (pids.some((p) => !/^[1-9]\d{0,9}$/.test(p) || Number(p) > 4194304)) {
    throw new UsageError(`--pid needs process ids separated by commas, got ${quote(text)}`);
  }
  return [...new Set(pids.map(Number))];
}

function oneOf<T extends string>(name: string, text: string | undefined, allowed: readonly T[], fallback: T): T {
  if (text === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(text)) {
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got ${quote(text)}`);
  }
  return text as T;
}

export function parseSort(text: string): SortSpec {
  const [col, dir = 'asc', extra] = text.split(':');
  if (!(SORT_COLUMNS as string[]).includes(col) || !['asc', 'desc'].includes(dir) || extra !== undefined) {
    throw new UsageError(`--sort must be COLUMN[:asc|:desc] with COLUMN one of ${SORT_COLUMNS.join(', ')}`);
  }
  return { column: col as SortColumn, descending: dir === 'desc' };
}

function parseSpeed(text: string | undefined, fallback: ReplaySpeed): ReplaySpeed {
  if (text === undefined) return fallback;
  if (text === 'max' || text === 'realtime') return text;
  return positive('replay-speed', text, 1, { min: 0.001, max: 1e6 });
}

/** MiB as a decimal ("0.5") or, as --help writes the smallest, a fraction ("1/256"). */
function parseRing(text: string | undefined): number {
  const fraction = text === undefined ? null : /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const mib = fraction ? Number(fraction[1]) / Number(fraction[2]) : positive('ring-size', text, 2);
  if (!(mib > 0) || !Number.isFinite(mib)) throw new UsageError(`--ring-size needs a positive number, got ${quote(text ?? '')}`);
  const bytes = mib * 1024 * 1024;
  if (!Number.isInteger(bytes) || (bytes & (bytes - 1)) !== 0 || bytes < 4096 || bytes > 1024 * 1024 * 1024) {
    throw new UsageError(`--ring-size must be a power of two in MiB from 1/256 (4 KiB) to 1024, got ${quote(text)}`);
  }
  return bytes;
}

export function parseCli(argv: string[], env: NodeJS.ProcessEnv = process.env): CliOptions {
  // Everything after the first `--` is COMMAND and its arguments, never lifetop's options.
  const split = argv.indexOf('--');
  const command = split < 0 ? undefined : argv.slice(split + 1);
  let values;
  try {
    ({ values } = parseArgs({ args: joinNegativeValues(split < 0 ? argv : argv.slice(0, split)), options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (err) {
    // node:util quotes the offending argument raw: an escape sequence in it must not reach the terminal.
    throw new UsageError(quote((err as Error).message.split('\n')[0]).slice(1, -1));
  }
  const modes = [values.json && '--json', values.snapshot !== undefined && '--snapshot', values.serve && '--serve'].filter(Boolean);
  if (modes.length > 1) throw new UsageError(`${modes.join(' and ')} cannot be combined`);
  const mode: Mode = values.help ? 'help' : values.version ? 'version'
    : values.json ? 'json' : values.snapshot !== undefined ? 'snapshot' : values.serve ? 'serve' : 'ui';
  const metrics = metricsOptions(values);
  if (mode === 'serve' && !metrics.metrics && values.record === undefined) {
    throw new UsageError('--serve needs --metrics or --record: otherwise nothing would see what it collects');
  }
  if (values.replay !== undefined && values.source !== undefined) {
    throw new UsageError('--replay and --source cannot be combined: a recording is its own source');
  }
  if (values.snapshot === '') throw new UsageError('--snapshot needs a file name');
  if (values.snapshot !== undefined) {
    try {
      formatFor(values.snapshot); // fail before collecting, not after
    } catch (err) {
      throw new UsageError(`--snapshot: ${(err as Error).message}`);
    }
  }

  if (command !== undefined) checkLaunch(command, values);
  const pids = values.pid === undefined ? undefined : parsePids(values.pid);
  if (pids && values.replay !== undefined) throw new UsageError('--pid and --replay cannot be combined: a recording holds what it holds');
  // With --pid alone, the processes named are the roots: no comm matches besides them.
  const filterText = values.filter ?? (pids ? '' : DEFAULT_FILTER);
  let patterns: string[] = [];
  try {
    if (filterText !== '' || values.filter !== undefined) patterns = parseFilter(filterText);
  } catch (err) {
    if (err instanceof FilterError) throw new UsageError(`--filter: ${err.message}`);
    throw err;
  }
  let units: string[] | null = null;
  if (values.unit !== undefined) {
    try {
      units = parseUnitFilter(values.unit);
    } catch (err) {
      if (err instanceof FilterError) throw new UsageError(`--unit: ${err.message}`);
      throw err;
    }
    if (units === null) throw new UsageError('--unit: empty: give at least one unit pattern, e.g. "nginx.service"');
  }
  const headless = mode === 'json' || mode === 'snapshot'; // --serve replays in real time, as the UI does
  // A replay's snapshot is the table at the end of the recording: no default collection time.
  const duration = values.duration === undefined ? (mode === 'snapshot' && values.replay === undefined && !command ? 2 : undefined)
    : positive('duration', values.duration, 0, { max: MAX_TIMER_SEC, unit: 'seconds' });
  return {
    mode,
    filter: { patterns, followChildren: !values['no-children'], ...(pids ? { pids } : {}) },
    filterText: formatFilter(patterns),
    filterGiven: values.filter !== undefined,
    units,
    snapshotPath: values.snapshot,
    durationSec: duration,
    recordPath: values.record,
    replayPath: values.replay,
    replaySpeed: parseSpeed(values['replay-speed'], headless ? 'max' : 'realtime'),
    onBadLine: oneOf('on-bad-line', values['on-bad-line'], ['skip', 'abort'] as const, 'skip'),
    source: values.replay !== undefined ? 'replay' : oneOf('source', values.source, ['bpf', 'proc'] as const, 'bpf'),
    intervalMs: positive('interval', values.interval, 0.5, { min: 0.01, max: 3600, unit: 'seconds' }) * 1000,
    // Launch mode keeps the whole tree's story (the UI stays on the final table); --max-rows still bounds it.
    retentionMs: command && values.retention === undefined ? Infinity
      : positive('retention', values.retention, 10, { max: MAX_TIMER_SEC, unit: 'seconds' }) * 1000,
    maxRows: Math.floor(positive('max-rows', values['max-rows'], 50_000)),
    ringBytes: parseRing(values['ring-size']),
    sort: values.sort === undefined ? { column: 'started', descending: true } : parseSort(values.sort),
    ascii: Boolean(values.ascii),
    color: !values['no-color'] && (env.NO_COLOR === undefined || env.NO_COLOR === ''),
    verbose: Boolean(values.verbose),
    ...(command ? { command } : {}),
    asRoot: Boolean(values['as-root']),
    ...metrics,
  };
}

/** Launch mode traces COMMAND's tree from the kernel: options that choose another scope or source do not combine. */
function checkLaunch(command: string[], values: Record<string, unknown>): void {
  if (command.length === 0 || command[0] === '') throw new UsageError('-- needs a command to run, e.g. lifetop -- python3 app.py');
  const clash = [['replay', '--replay'], ['pid', '--pid'], ['source', '--source'], ['no-children', '--no-children']]
    .find(([name]) => values[name] !== undefined);
  if (clash) throw new UsageError(`${clash[1]} and -- COMMAND cannot be combined: launch mode traces exactly COMMAND's tree, from the kernel`);
}

/** --metrics and the options that shape it (which mean nothing without it). */
function metricsOptions(values: { metrics?: string; 'metrics-max-groups'?: string; 'metrics-unit'?: boolean }):
  Pick<CliOptions, 'metrics' | 'metricsMaxGroups' | 'metricsUnit'> {
  if (values.metrics === undefined) {
    const orphan = values['metrics-max-groups'] !== undefined ? '--metrics-max-groups' : values['metrics-unit'] ? '--metrics-unit' : null;
    if (orphan) throw new UsageError(`${orphan} needs --metrics [ADDR:]PORT`);
    return { metricsMaxGroups: 200, metricsUnit: false };
  }
  const max = positive('metrics-max-groups', values['metrics-max-groups'], 200, { max: 100_000 });
  if (!Number.isInteger(max)) throw new UsageError(`--metrics-max-groups needs a whole number, got ${quote(values['metrics-max-groups']!)}`);
  return { metrics: parseListen(values.metrics), metricsMaxGroups: max, metricsUnit: Boolean(values['metrics-unit']) };
}

/** "9464" (127.0.0.1), "ADDR:9464", "[::1]:9464", ":9464" (every address). */
export function parseListen(text: string): ListenAddress {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]:|([^:[\]]*):)?(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) {
    throw new UsageError(`--metrics needs [ADDR:]PORT with PORT from 1 to 65535, got ${quote(text)}`);
  }
  if (m[1] !== undefined) {
    if (isIP(m[1]) !== 6) throw new UsageError(`--metrics: not an IPv6 address: ${quote(m[1])}`);
    return { host: m[1], port, text: `[${m[1]}]:${port}` };
  }
  if (m[2] === undefined) return { host: '127.0.0.1', port, text: `127.0.0.1:${port}` };
  if (m[2] === '') return { host: undefined, port, text: `:${port}` };
  if (m[2] !== 'localhost' && isIP(m[2]) !== 4) {
    throw new UsageError(`--metrics: ADDR must be an IP address (or localhost), got ${quote(m[2])}`);
  }
  return { host: m[2], port, text: `${m[2]}:${port}` };
}
