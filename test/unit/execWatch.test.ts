// The /proc source's scan trigger: the throttle on a fake clock, the directory list, the
// native inotify watcher on a temporary directory, and the fallbacks when it cannot run.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ExecTrigger, execDirs, loaderDirs, Throttle } from '../../src/source/execWatch';
import { loadAddon, type NativeExecWatcher } from '../../src/source/native';
import { ProcSource } from '../../src/source/procSource';

describe('Throttle', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  function throttled(): { runs: number[]; throttle: Throttle } {
    vi.useFakeTimers();
    const runs: number[] = [];
    const throttle = new Throttle(() => runs.push(Date.now()), 20, () => Date.now());
    return { runs, throttle };
  }

  it('runs at once, looks once more a gap later, then rests', () => {
    const { runs, throttle } = throttled();
    const t0 = Date.now();
    throttle.kick();
    expect(runs).toEqual([t0]);
    vi.advanceTimersByTime(1000);
    expect(runs).toEqual([t0, t0 + 20]);
  });

  it('under a burst runs at most once per gap, and once more after the last kick', () => {
    const { runs, throttle } = throttled();
    const t0 = Date.now();
    for (let i = 0; i < 100; i++) {
      throttle.kick();
      vi.advanceTimersByTime(1);
    }
    const lastKick = t0 + 99;
    vi.advanceTimersByTime(1000);
    expect(runs.length).toBeLessThanOrEqual(100 / 20 + 2);
    for (let i = 1; i < runs.length; i++) expect(runs[i] - runs[i - 1]).toBeGreaterThanOrEqual(20);
    expect(runs[runs.length - 1]).toBeGreaterThanOrEqual(lastKick + 20);
  });

  it('does nothing after cancel', () => {
    const { runs, throttle } = throttled();
    throttle.kick();
    throttle.kick();
    throttle.cancel();
    vi.advanceTimersByTime(1000);
    expect(runs).toHaveLength(1);
  });
});

describe('execDirs', () => {
  it('takes the loader and libc directories from the maps, whatever the ABI', () => {
    const maps = [
      'aaaa-bbbb r-xp 00000000 fe:00 1 /usr/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1',
      'aaaa-bbbb r-xp 00000000 fe:00 2 /usr/lib/aarch64-linux-gnu/libc.so.6',
      'aaaa-bbbb r-xp 00000000 fe:00 3 /opt/musl/lib/ld-musl-aarch64.so.1',
      'aaaa-bbbb r-xp 00000000 fe:00 4 /usr/lib/aarch64-linux-gnu/libstdc++.so.6.0.30',
      'aaaa-bbbb r-xp 00000000 fe:00 5 /work/build/Release/lifetop.node',
      'aaaa-bbbb rw-p 00000000 00:00 0 [heap]',
    ].join('\n');
    expect(loaderDirs(maps)).toEqual(['/usr/lib/aarch64-linux-gnu', '/opt/musl/lib']);
  });

  it("on this machine: bin directories and the directory libc really lives in, each once", () => {
    const libc = /\s(\/\S*\/libc\.so[^/\s]*)$/m.exec(fs.readFileSync('/proc/self/maps', 'utf8'))![1];
    const dirs = execDirs();
    expect(dirs).toContain(fs.realpathSync('/usr/bin'));
    expect(dirs).toContain(path.dirname(fs.realpathSync(libc)));
    expect(new Set(dirs).size).toBe(dirs.length);
    for (const dir of dirs) expect(fs.realpathSync(dir)).toBe(dir);
  });
});

describe('ExecWatcher (native)', () => {
  const open: NativeExecWatcher[] = [];
  const dirs: string[] = [];
  afterEach(() => {
    for (const w of open.splice(0)) w.close();
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  function tempDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifetop-watch-'));
    dirs.push(dir);
    return dir;
  }

  function touchAll(dir: string, n: number): void {
    for (let i = 0; i < n; i++) fs.closeSync(fs.openSync(path.join(dir, `f${i}`), 'w'));
  }

  it('skips missing directories and calls JS once for a burst of opens, not once per open', async () => {
    const dir = tempDir();
    let calls = 0;
    const watcher = new (loadAddon().ExecWatcher)([dir, path.join(dir, 'missing')], () => calls++);
    open.push(watcher);
    expect(watcher.watched).toBe(1);
    touchAll(dir, 200); // one turn of the JS loop: the watcher can only queue one call
    // Every open read by the watcher, and every call it queued made: nothing more can come.
    const { notifies } = await vi.waitFor(() => {
      const stats = watcher.stats();
      expect(stats.events).toBeGreaterThanOrEqual(200);
      expect(calls).toBeGreaterThan(0);
      expect(calls).toBe(stats.notifies);
      return stats;
    }, { timeout: 5_000 });
    expect(notifies).toBeLessThanOrEqual(2);
  });

  it('is silent after close(), which may be called twice', async () => {
    const dir = tempDir();
    let calls = 0;
    const watcher = new (loadAddon().ExecWatcher)([dir], () => calls++);
    // A second watcher on the same directory, left open: once it has read the opens and called JS,
    // the closed one would have been woken by the same opens.
    let witnessCalls = 0;
    const witness = new (loadAddon().ExecWatcher)([dir], () => witnessCalls++);
    open.push(witness);
    watcher.close();
    watcher.close();
    touchAll(dir, 10);
    await vi.waitFor(() => {
      expect(witness.stats().events).toBeGreaterThanOrEqual(10);
      expect(witnessCalls).toBe(witness.stats().notifies);
      expect(witnessCalls).toBeGreaterThan(0);
    }, { timeout: 5_000 });
    expect(calls).toBe(0);
    expect(watcher.stats().events).toBe(0);
  });
});

describe('ExecTrigger and ProcSource without a watcher', () => {
  const fake = (watched: number, closed: { n: number }) => (): NativeExecWatcher => ({
    watched, close: () => closed.n++, stats: () => ({ events: 0, notifies: 0 }),
  });

  it('says why when nothing can be watched or the watcher fails, and releases what it made', () => {
    const closed = { n: 0 };
    expect(new ExecTrigger(() => undefined).start(fake(0, closed), ['/nowhere'])).toBe('none of /nowhere can be watched');
    expect(closed.n).toBe(1);
    const failing = () => {
      throw new Error('too many inotify instances');
    };
    expect(new ExecTrigger(() => undefined).start(failing, ['/usr/bin'])).toBe('too many inotify instances');
    const trigger = new ExecTrigger(() => undefined);
    expect(trigger.start(fake(3, closed), ['/usr/bin'])).toBeNull();
    trigger.stop();
    expect(closed.n).toBe(2);
  });

  it('polls only, and says so, when the addon is missing or the watcher cannot start', () => {
    const filter = { patterns: ['sleep'], followChildren: false };
    const noAddon = new ProcSource(filter, { intervalMs: 100, watcher: 'not built' });
    expect(noAddon.caveat).toBe(
      'polling /proc every 0.1s only (native addon not loaded): processes shorter than that are missed; exit status unknown');
    const noWatch = new ProcSource(filter, { intervalMs: 100, watcher: fake(0, { n: 0 }) });
    expect(noWatch.caveat).toMatch(/^polling \/proc on program starts and every 0.1s/);
    noWatch.start(() => undefined);
    noWatch.stop();
    expect(noWatch.caveat).toMatch(/^polling \/proc every 0.1s only \(no start trigger: none of .* can be watched\)/);
  });
});
