// Ground-truth workloads for the real-kernel tests: python under a name of its own (so tests
// running in parallel never mix in), children that are always cleaned up, and small waits on
// what a child did (printed, exited) or what /proc says of a pid.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const PYTHON = '/usr/bin/python3';

/** python3 under another name, in dir: its comm is the link's name. */
export function pythonAs(dir: string, name: string): string {
  const link = path.join(dir, name);
  if (!fs.existsSync(link)) fs.symlinkSync(PYTHON, link);
  return link;
}

/** Children of one test file: started with `-c CODE`, all killed by killAll() (an afterEach). */
export class Children {
  private readonly all: ChildProcess[] = [];

  start(exe: string, code: string, args: string[] = [], opts: { stdin?: 'ignore' | 'pipe'; cwd?: string } = {}): ChildProcess {
    const child = spawn(exe, ['-c', code, ...args], { stdio: [opts.stdin ?? 'ignore', 'pipe', 'inherit'], cwd: opts.cwd });
    this.all.push(child);
    return child;
  }

  killAll(): void {
    for (const c of this.all.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** The first line the child prints (pids it reports), once it has printed it. */
export function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('\n')) resolve(text.split('\n')[0]);
    });
    child.once('exit', () => reject(new Error(`exited before printing: ${text}`)));
  });
}

/** State letter of a pid from /proc, or null when it is gone. */
export function procState(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0];
  } catch {
    return null;
  }
}

export const LAST_PID = '/proc/sys/kernel/ns_last_pid';

/**
 * Starts `cmd` as pid `pid` for real: ns_last_pid steers the next fork onto it (other processes may
 * take it first: tried again, a bounded number of times). Resolves with the child that got it.
 */
export async function spawnAtPid(pid: number, cmd: string, args: string[]): Promise<ChildProcess> {
  for (let i = 0; i < 50; i++) {
    fs.writeFileSync(LAST_PID, String(pid - 1));
    const child = spawn(cmd, args, { stdio: 'ignore' });
    if (child.pid === pid) return child;
    child.kill('SIGKILL');
    await exited(child);
  }
  throw new Error(`could not get pid ${pid} for ${cmd}`);
}
