// Scan triggers for the /proc source: the directories a starting program is read from
// (binaries, ld.so and libc, python's stdlib), watched through the addon, and a throttle.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadAddon, type NativeExecWatcher } from './native';

/** Scans at most this often under a burst of program starts. */
export const SCAN_GAP_MS = 20;

const BIN_DIRS = ['/usr/bin', '/bin', '/usr/sbin', '/sbin', '/usr/local/bin', '/usr/local/sbin'];

/**
 * Where programs come from on this machine: the usual bin directories, the directories of
 * the loader and libc this very process mapped (every dynamically linked program opens
 * them, wherever its binary lives; the multiarch path differs per ABI), and python's
 * stdlib directories (python reads them as it starts). Real paths, once each, existing only.
 */
export function execDirs(mapsText = readMaps(), libRoots = ['/usr/lib', '/usr/local/lib']): string[] {
  const dirs = [...BIN_DIRS, ...loaderDirs(mapsText)];
  for (const root of libRoots) {
    for (const name of listDir(root)) if (/^python3(\.\d+)?$/.test(name)) dirs.push(path.join(root, name));
  }
  const out = new Set<string>();
  for (const dir of dirs) {
    const real = realDir(dir);
    if (real) out.add(real);
  }
  return [...out];
}

/** Directories of ld.so (ld-linux-*, ld-musl-*) and libc in /proc/self/maps. */
export function loaderDirs(mapsText: string): string[] {
  const dirs = new Set<string>();
  for (const line of mapsText.split('\n')) {
    const file = line.slice(line.indexOf('/'));
    if (line.includes('/') && /^(ld-|libc[.-])/.test(path.basename(file))) dirs.add(path.dirname(file));
  }
  return [...dirs];
}

function readMaps(): string {
  try {
    return fs.readFileSync('/proc/self/maps', 'utf8');
  } catch {
    return '';
  }
}

function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function realDir(dir: string): string | null {
  try {
    const real = fs.realpathSync(dir);
    return fs.statSync(real).isDirectory() ? real : null;
  } catch {
    return null;
  }
}

/**
 * Runs `fn` at once on the first kick, then at most once per `gapMs` while kicks keep
 * coming, and always once more `gapMs` after the last kick: an exec is seen at its first
 * open, before the process has its new name, and a burst's last process must not wait
 * for the slow timer.
 */
export class Throttle {
  private last = -Infinity;
  /** Runs still owed: the one asked for and the look after it. */
  private owed = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly fn: () => void, private readonly gapMs = SCAN_GAP_MS, private readonly now = () => performance.now()) {}

  kick(): void {
    this.owed = 2;
    if (!this.timer) this.tick();
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.owed = 0;
  }

  private tick(): void {
    this.timer = null;
    if (this.owed === 0) return;
    const wait = this.last + this.gapMs - this.now();
    if (wait > 0) return this.arm(wait);
    this.owed--;
    this.last = this.now();
    this.fn();
    if (this.owed > 0) this.arm(this.gapMs);
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => this.tick(), ms);
    this.timer.unref(); // a trigger must never be what keeps the process alive
  }
}

/** The addon's watcher, or why there is none (not built, no inotify, nothing to watch). */
export type WatcherFactory = (dirs: string[], onActivity: () => void) => NativeExecWatcher;

export function nativeWatcher(): WatcherFactory | string {
  try {
    const { ExecWatcher } = loadAddon();
    return (dirs, onActivity) => new ExecWatcher(dirs, onActivity);
  } catch (err) {
    return (err as Error).message;
  }
}

/** Kicks `onActivity` (throttled) whenever a program starts; stop() ends it. */
export class ExecTrigger {
  private readonly throttle: Throttle;
  private watcher: NativeExecWatcher | null = null;

  constructor(onActivity: () => void, gapMs = SCAN_GAP_MS) {
    this.throttle = new Throttle(onActivity, gapMs);
  }

  /** Starts watching; returns null, or why it cannot (the caller polls only, and says so). */
  start(factory: WatcherFactory, dirs = execDirs()): string | null {
    if (this.watcher) return null;
    let watcher: NativeExecWatcher;
    try {
      watcher = factory(dirs, () => this.onNative());
    } catch (err) {
      return (err as Error).message;
    }
    if (watcher.watched === 0) {
      watcher.close();
      return `none of ${dirs.join(', ')} can be watched`;
    }
    this.watcher = watcher;
    return null;
  }

  private onNative(): void {
    if (!this.watcher) return; // a call queued before stop() must not restart the throttle
    try {
      this.throttle.kick();
    } catch (err) {
      // Node only warns about an exception thrown into a native callback: rethrow it where it counts.
      process.nextTick(() => {
        throw err;
      });
    }
  }

  stop(): void {
    this.watcher?.close();
    this.watcher = null;
    this.throttle.cancel();
  }
}
