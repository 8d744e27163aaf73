// Test helpers: run the real bin/lifetop, spawn real processes, and say
// plainly why a kernel test is skipped on a machine that cannot run it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { expect } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const BIN = path.join(ROOT, 'bin', 'lifetop');

/** Why BPF tests cannot run here, or null when they can. */
export function bpfUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root to load BPF programs';
  if (!fs.existsSync('/sys/kernel/btf/vmlinux')) return 'kernel has no BTF';
  if (!fs.existsSync(path.join(ROOT, 'build/Release/lifetop.node'))) return 'native addon not built (run make)';
  return null;
}

export function skipReason(reason: string | null): boolean {
  if (reason) process.stderr.write(`SKIPPED: ${reason}\n`);
  return reason !== null;
}

/** Runs a command as an unprivileged user: `nobody` via setpriv when we are root, else as we are. */
export const AS_NOBODY = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];

/** Why an unprivileged run cannot be tested here (the checkout is not readable by nobody), or null. */
export function nobodyUnavailable(): string | null {
  if (AS_NOBODY.length === 0) return null;
  const r = spawnSync(AS_NOBODY[0], [...AS_NOBODY.slice(1), 'test', '-r', path.join(ROOT, 'dist', 'cli.js')]);
  return r.status === 0 ? null : `user nobody cannot read ${ROOT}/dist (checkout in a private directory)`;
}

/** The real interpreter behind whatever `python3` on PATH is (a pyenv shim here). */
export const REAL_PYTHON = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' })
  .stdout.trim();

export interface Running {
  child: ChildProcess;
  lines: string[];
  stderr: string[];
  /** Resolves with the exit code once lifetop has exited. */
  exited: Promise<number | null>;
}

/** Starts `lifetop ARGS --verbose` and resolves once it reports it is tracing. */
export async function startLifetop(
  args: string[], opts: { env?: NodeJS.ProcessEnv; prefix?: string[]; bin?: string; cwd?: string } = {},
): Promise<Running> {
  const argv = [...(opts.prefix ?? []), process.execPath, opts.bin ?? BIN, ...args, '--verbose'];
  const child = spawn(argv[0], argv.slice(1), {
    cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const stderr: string[] = [];
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr.push(chunk);
      if (stderr.join('').includes('lifetop: tracing')) resolve();
    });
    exited.then(() => reject(new Error(`lifetop exited early: ${stderr.join('')}`)));
  });
  return { child, lines, stderr, exited };
}

export async function stopLifetop(run: Running, signal: NodeJS.Signals = 'SIGINT'): Promise<number | null> {
  run.child.kill(signal);
  return run.exited;
}

export interface JsonEvent {
  type: 'exec' | 'exit' | 'fork';
  time: string; pid: number; ppid: number; uid: number; comm: string; start: number;
  filename?: string; args?: string[]; args_truncated?: boolean;
  exit_code?: number; signal?: number; duration_ms?: number; child_pid?: number;
}

export function events(run: Running): JsonEvent[] {
  return run.lines.filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as JsonEvent);
}

/** Polls until pred holds over the events so far (kernel delivery is batched, ≤ ~100 ms). */
export async function waitFor(run: Running, pred: (evs: JsonEvent[]) => boolean, timeoutMs = 10_000): Promise<JsonEvent[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const evs = events(run);
    if (pred(evs)) return evs;
    if (Date.now() > deadline) throw new Error(`timed out; events so far:\n${run.lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs a command to completion; resolves with its pid and exit status. */
export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<{ pid: number; code: number | null; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: 'ignore', env: { ...process.env, ...opts.env } });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ pid: child.pid!, code, signal }));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** BPF program and link ids a process holds, from its fdinfo (Debian's bpftool cannot show pids). */
export function bpfObjectsOf(pid: number): { progs: number[]; links: number[] } {
  const progs: number[] = [];
  const links: number[] = [];
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    let target = '';
    try {
      target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    const info = target.includes('bpf') ? fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8') : '';
    const link = /link_id:\s*(\d+)/.exec(info);
    const prog = /prog_id:\s*(\d+)/.exec(info);
    if (target === 'anon_inode:bpf_link' && link) links.push(Number(link[1]));
    else if (target === 'anon_inode:bpf-prog' && prog) progs.push(Number(prog[1]));
  }
  return { progs, links };
}

/** Ids from the list that the kernel still has loaded (it frees them asynchronously: poll a little). */
export async function stillLoaded(kind: 'prog' | 'link', ids: number[]): Promise<number[]> {
  let left = ids;
  for (let i = 0; i < 50 && left.length > 0; i++) {
    left = left.filter((id) => spawnSync('bpftool', [kind, 'show', 'id', String(id)]).status === 0);
    if (left.length > 0) await sleep(100);
  }
  return left;
}

export async function expectDetached(held: { progs: number[]; links: number[] }): Promise<void> {
  expect(held.progs.length).toBeGreaterThanOrEqual(3);
  expect(held.links.length).toBeGreaterThanOrEqual(3);
  expect(await stillLoaded('link', held.links)).toEqual([]);
  expect(await stillLoaded('prog', held.progs)).toEqual([]);
}

