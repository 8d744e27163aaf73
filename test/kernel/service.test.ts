// lifetop as installed and as its service runs: `make install DESTDIR=...` into a temporary root,
// the installed launcher's --version, --help, man page and completion; then the installed tree
// run as contrib/lifetop.service runs it on a machine without systemd: not root, only the
// capabilities the unit grants (setpriv), tracing and serving metrics, ending cleanly; then
// `make uninstall` takes away exactly what was installed.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usageOptions } from '../../src/doc/manpage';
import { BIN, bpfObjectsOf, bpfUnavailable, expectDetached, ROOT, skipReason, startLifetop, stopLifetop } from '../support/lifetop';
import { freePort, sample, scrape, until } from '../support/prometheus';
import { exited, pythonAs } from '../support/workload';

const VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** The capabilities contrib/lifetop.service grants, as the unit lists them. */
function unitCapabilities(): string[] {
  const unit = fs.readFileSync(path.join(ROOT, 'contrib/lifetop.service'), 'utf8');
  const ambient = /^AmbientCapabilities=(.+)$/m.exec(unit)?.[1].trim().split(/\s+/) ?? [];
  const bounding = /^CapabilityBoundingSet=(.+)$/m.exec(unit)?.[1].trim().split(/\s+/) ?? [];
  expect(bounding).toEqual(ambient);
  return ambient;
}

/** Capability numbers (linux/capability.h) of those the unit may name. */
const CAP_BITS: Record<string, number> = { CAP_SYS_PTRACE: 19, CAP_SYS_ADMIN: 21, CAP_PERFMON: 38, CAP_BPF: 39 };

function make(args: string[]): void {
  const r = spawnSync('make', ['-s', ...args], { cwd: ROOT, encoding: 'utf8' });
  expect(r.status, r.stdout + r.stderr).toBe(0);
}

const installed = (dest: string, ...parts: string[]) => path.join(dest, 'usr', ...parts);

describe('make install, the installed lifetop, the service without root, make uninstall', () => {
  let dest: string;
  let work: string;

  beforeAll(() => {
    dest = fs.mkdtempSync(path.join(os.tmpdir(), 'lifetop-root-'));
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'lifetop-svc-'));
    fs.chmodSync(dest, 0o755); // the unprivileged run below reads the installed tree
    fs.chmodSync(work, 0o777); // ...and writes its snapshot here
    make(['install', `DESTDIR=${dest}`, 'PREFIX=/usr']);
  }, 120_000);

  afterAll(() => {
    fs.rmSync(dest, { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('installs a launcher that answers --version and --help, a man page man renders, a completion bash runs', () => {
    const launcher = installed(dest, 'bin', 'lifetop');
    expect(fs.readlinkSync(launcher)).toBe('../lib/lifetop/bin/lifetop');
    for (const f of ['lib/lifetop/build/Release/lifetop.node', 'lib/lifetop/dist/cli.js', 'lib/lifetop/node_modules/prom-client/package.json',
      'lib/lifetop/node_modules/blessed/package.json', 'share/doc/lifetop/prometheus.yml', 'share/doc/lifetop/alerts.yml']) {
      expect(fs.existsSync(installed(dest, f)), f).toBe(true);
    }
    // Only what runs: no compiler, no test runner.
    expect(fs.existsSync(installed(dest, 'lib/lifetop/node_modules/typescript'))).toBe(false);
    expect(fs.existsSync(installed(dest, 'lib/lifetop/node_modules/vitest'))).toBe(false);
    expect(fs.readFileSync(installed(dest, 'share/doc/lifetop/lifetop.service'), 'utf8'))
      .toMatch(/^ExecStart=\/usr\/bin\/lifetop --serve --metrics :9464$/m);

    const version = spawnSync(launcher, ['--version'], { encoding: 'utf8', cwd: '/' });
    expect(version.status).toBe(0);
    expect(version.stdout).toBe(`lifetop ${VERSION}\n`);
    const help = spawnSync(launcher, ['--help'], { encoding: 'utf8', cwd: '/' });
    expect(help.status).toBe(0);
    expect(help.stdout).toBe(spawnSync(BIN, ['--help'], { encoding: 'utf8' }).stdout);
    expect(help.stdout).toContain('--metrics [ADDR:]PORT');

    const man = spawnSync('man', ['--warnings', '-l', installed(dest, 'share/man/man1/lifetop.1')], {
      encoding: 'utf8', env: { ...process.env, MANPAGER: 'cat', MANWIDTH: '100', LANG: 'C.UTF-8' },
    });
    expect(man.status, man.stderr).toBe(0);
    expect(man.stderr).toBe(''); // groff found nothing to warn about
    expect(man.stdout).toMatch(/^LIFETOP\(1\)/);
    expect(man.stdout).toContain(`lifetop ${VERSION}`);
    // Every option of --help is in the page, with its argument.
    const flat = man.stdout.replace(/‐\n\s*/g, '').replace(/\s+/g, ' ');
    for (const o of usageOptions(help.stdout)) expect(flat, o.spec).toContain(o.spec);
    expect(flat).toContain('no authentication');

    const complete = (words: string[]) => spawnSync('bash', ['-c',
      `source "$1"; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _lifetop; printf '%s\\n' "\${COMPREPLY[@]}"`,
      'complete', installed(dest, 'share/bash-completion/completions/lifetop')], { encoding: 'utf8' }).stdout.trim().split('\n');
    expect(complete(['lifetop', '--metr'])).toEqual(['--metrics', '--metrics-max-groups', '--metrics-unit']);
    expect(complete(['lifetop', '--source', ''])).toEqual(['bpf', 'proc']);
    expect(complete(['lifetop', '--sort', 'cp'])).toEqual(['cpu', 'cpu:asc', 'cpu:desc']);
  });

  it('runs from the installed tree alone: a replay served as metrics and written as a snapshot', async () => {
    const port = await freePort();
    const out = path.join(work, 'replay.json');
    const child = spawn(installed(dest, 'bin', 'lifetop'), [
      '--replay', path.join(ROOT, 'test/fixtures/session.ndjson'), '--replay-speed', '1', '--snapshot', out, '--metrics', String(port),
    ], { cwd: '/', stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const { series } = await until('metrics of the replay', async () => {
      const got = await scrape(`127.0.0.1:${port}`);
      return sample(got.series, 'lifetop_build_info', { source: 'replay' }) === 1 ? got : undefined;
    });
    expect(sample(series, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(await exited(child), stderr).toEqual({ code: 0, signal: null });
    expect(JSON.parse(fs.readFileSync(out, 'utf8')).processes.length).toBeGreaterThan(0);
  });

  const bpfSkip = skipReason(bpfUnavailable());

  it.skipIf(bpfSkip)('runs as the unit does, as nobody with only CAP_BPF, CAP_PERFMON and CAP_SYS_PTRACE: loads, traces, ends cleanly', async () => {
    const caps = unitCapabilities();
    expect(caps).toEqual(['CAP_BPF', 'CAP_PERFMON', 'CAP_SYS_PTRACE']);
    const names = caps.map((c) => '+' + c.slice(4).toLowerCase()).join(',');
    const prefix = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', `--inh-caps=-all,${names}`, `--ambient-caps=${names}`,
      `--bounding-set=-all,${names}`, '--no-new-privs', '--'];
    const port = await freePort();
    const lt = await startLifetop(['--serve', '--metrics', String(port), '-f', 'ltcap-*'], { prefix, bin: installed(dest, 'bin', 'lifetop'), cwd: '/' });
    try {
      const status = fs.readFileSync(`/proc/${lt.child.pid}/status`, 'utf8');
      const mask = caps.reduce((m, c) => m | (1n << BigInt(CAP_BITS[c])), 0n);
      expect(/^Uid:\s+(\d+)/m.exec(status)?.[1]).toBe('65534');
      expect(BigInt('0x' + /^CapEff:\s+(\w+)/m.exec(status)![1])).toBe(mask);
      expect(BigInt('0x' + /^CapBnd:\s+(\w+)/m.exec(status)![1])).toBe(mask);
      expect(/^NoNewPrivs:\s+(\d)/m.exec(status)?.[1]).toBe('1');

      // Root's processes, traced by an unprivileged lifetop: an exit code and a kill.
      const code3 = spawn(pythonAs(work, 'ltcap-exit3'), ['-c', 'import sys; sys.exit(3)'], { stdio: 'ignore' });
      expect(await exited(code3)).toEqual({ code: 3, signal: null });
      const victim = spawn(pythonAs(work, 'ltcap-victim'), ['-c', 'import time; print(1, flush=True); time.sleep(60)'], { stdio: ['ignore', 'pipe', 'ignore'] });
      await new Promise<void>((resolve) => victim.stdout!.once('data', () => resolve()));
      victim.kill('SIGKILL');
      await exited(victim);
      const { series } = await until('both exits in the metrics', async () => {
        const got = await scrape(`127.0.0.1:${port}`);
        const ok = sample(got.series, 'lifetop_exits_total', { group: 'ltcap-exit3', reason: 'code' }) === 1
          && sample(got.series, 'lifetop_exits_total', { group: 'ltcap-victim', reason: 'signal', signal: 'SIGKILL' }) === 1;
        return ok ? got : undefined;
      });
      expect(sample(series, 'lifetop_lost_events_total', { stage: 'kernel_ring' })).toBe(0);
      expect(sample(series, 'lifetop_build_info', { source: 'bpf' })).toBe(1);
    } finally {
      const held = bpfObjectsOf(lt.child.pid!);
      expect(await stopLifetop(lt, 'SIGTERM')).toBe(0);
      await expectDetached(held);
    }
    expect(lt.lines.join('')).toBe('');
    expect(lt.stderr.join('').trim().split('\n').filter((l) => !/^lifetop: (metrics on|tracing) /.test(l))).toEqual([]);
  }, 60_000);

  it.skipIf(bpfSkip)('reads the status of another user\'s zombie with CAP_SYS_PTRACE (the reason the unit grants it)', async () => {
    const caps = unitCapabilities().map((c) => '+' + c.slice(4).toLowerCase()).join(',');
    // A root-owned parent that never reaps its child, which exited 7 before lifetop started.
    const parent = spawn(pythonAs(work, 'ltcap-zparent'), ['-c',
      'import os, time\npid = os.fork()\nif pid == 0:\n    os._exit(7)\nprint(pid, flush=True)\ntime.sleep(60)'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const zombie = Number(await new Promise<string>((resolve) => parent.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()))));
      await until('the child is a zombie', async () => (/\) Z /.test(fs.readFileSync(`/proc/${zombie}/stat`, 'utf8')) ? true : undefined));
      const out = path.join(work, 'zombie.json');
      const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', `--inh-caps=-all,${caps}`, `--ambient-caps=${caps}`,
        `--bounding-set=-all,${caps}`, '--no-new-privs', '--', installed(dest, 'bin', 'lifetop'), '--snapshot', out, '--duration', '0.5',
        '-f', 'ltcap-z*'], { cwd: '/', encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const row = (JSON.parse(fs.readFileSync(out, 'utf8')) as { processes: { pid: number; exit_code: number | null; exit_from: string }[] })
        .processes.find((p) => p.pid === zombie);
      expect(row).toMatchObject({ exit_code: 7, exit_from: 'proc' });
    } finally {
      parent.kill('SIGKILL');
      await exited(parent);
    }
  }, 60_000);

  it('uninstalls exactly what it installed', () => {
    make(['uninstall', `DESTDIR=${dest}`, 'PREFIX=/usr']);
    const left = spawnSync('find', [dest, '(', '-type', 'f', '-o', '-type', 'l', ')'], { encoding: 'utf8' }).stdout.trim();
    expect(left).toBe('');
  });
});
