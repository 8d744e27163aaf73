// Launch mode against ground truth: `lifetop --json -- COMMAND` where COMMAND writes down every pid it
// made (a fork, an `sh -c` child) and how it ends. Every process of the tree is in the stream, from
// COMMAND's first exec; lifetop exits with COMMAND's status, as a shell would.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, bpfUnavailable, ROOT, skipReason, type JsonEvent } from '../support/lifetop';
import { pythonAs } from '../support/workload';

const skip = skipReason(bpfUnavailable());

interface Ran {
  code: number | null;
  events: JsonEvent[];
  stderr: string;
  pid: number;
}

/** Runs lifetop to its end; `onStart` gets its pid as soon as it runs. */
function lifetop(args: string[], opts: { env?: NodeJS.ProcessEnv; onStart?: (pid: number) => void } = {}): Promise<Ran> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  opts.onStart?.(child.pid!);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  return new Promise((resolve) => child.on('close', (code) => resolve({
    code, stderr: err, pid: child.pid!,
    events: out.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as JsonEvent),
  })));
}

describe.skipIf(skip)('lifetop -- COMMAND', () => {
  let dir = '';
  let py = '';
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifetop-launch-'));
    py = pythonAs(dir, 'ltl-py');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('sees every process of the tree from the first exec, and exits with the command\'s code', async () => {
    const truth = path.join(dir, 'truth.json');
    // A fork without exec, an `sh -c` child that forks `true` itself, then exit 3.
    const code = [
      'import json, os, subprocess, sys',
      'k = os.fork()',
      'if k == 0: os._exit(5)',
      'os.waitpid(k, 0)',
      'sh = subprocess.Popen(["/bin/sh", "-c", "/bin/true; echo $$ > ' + truth + '.sh"])',
      'sh.wait()',
      'json.dump({"root": os.getpid(), "fork": k, "sh": sh.pid}, open("' + truth + '", "w"))',
      'sys.exit(3)',
    ].join('\n');
    const ran = await lifetop(['--json', '--', py, '-c', code]);
    expect(ran.code).toBe(3);
    const t = JSON.parse(fs.readFileSync(truth, 'utf8')) as { root: number; fork: number; sh: number };
    const evs = ran.events;
    const of = (pid: number, type: string) => evs.filter((e) => e.pid === pid && e.type === type);
    // The first exec of COMMAND itself, seen by the kernel (not seeded), with its arguments.
    expect(of(t.root, 'exec')).toEqual([expect.objectContaining({ comm: 'ltl-py', args: [py, '-c', code], ppid: ran.pid })]);
    expect((of(t.root, 'exec')[0] as unknown as Record<string, unknown>).seeded).toBeUndefined();
    expect(of(t.root, 'exit')).toEqual([expect.objectContaining({ exit_code: 3, signal: 0 })]);
    expect(evs.find((e) => e.type === 'fork' && e.child_pid === t.fork)).toMatchObject({ pid: t.root });
    expect(of(t.fork, 'exit')).toEqual([expect.objectContaining({ exit_code: 5 })]);
    expect(of(t.sh, 'exec')).toEqual([expect.objectContaining({ comm: 'sh', ppid: t.root })]);
    expect(of(t.sh, 'exit')).toEqual([expect.objectContaining({ exit_code: 0 })]);
    // sh's own child (true) is in the tree too.
    const trueExec = evs.find((e) => e.type === 'exec' && e.ppid === t.sh && e.comm === 'true');
    expect(trueExec).toBeDefined();
    expect(of(trueExec!.pid, 'exit')).toHaveLength(1);
    // Nothing outside the tree: every pid is the root or descends from it.
    const tree = new Set([t.root]);
    for (const e of evs) if (e.type === 'fork') tree.add(e.child_pid!);
    for (const e of evs) if (e.type === 'exec' && tree.has(e.ppid)) tree.add(e.pid);
    expect(evs.filter((e) => !tree.has(e.pid)).map((e) => `${e.type} ${e.pid} ${e.comm}`)).toEqual([]);
  }, 30_000);

  it('exits 128+N when the command dies of signal N (143 for SIGTERM)', async () => {
    const ran = await lifetop(['--json', '--', py, '-c', 'import os, signal; os.kill(os.getpid(), signal.SIGTERM)']);
    expect(ran.code).toBe(143);
    expect(ran.events.filter((e) => e.type === 'exit')).toEqual([expect.objectContaining({ comm: 'ltl-py', signal: 15 })]);
  }, 30_000);

  it('passes a SIGTERM sent to lifetop on to the command, and ends with it', async () => {
    const ready = path.join(dir, 'ready');
    let lifetopPid = 0;
    const running = lifetop(['--json', '--', py, '-c', `import time; open("${ready}", "w").close(); time.sleep(60)`], {
      onStart: (pid) => (lifetopPid = pid),
    });
    for (let i = 0; !fs.existsSync(ready); i++) {
      if (i > 200) throw new Error('the command never started');
      await new Promise((r) => setTimeout(r, 50));
    }
    process.kill(lifetopPid, 'SIGTERM');
    const ran = await running;
    expect(ran.code).toBe(143);
    expect(ran.events.find((e) => e.type === 'exit' && e.comm === 'ltl-py')).toMatchObject({ signal: 15 });
  }, 30_000);

  it('runs the command as the user who ran sudo, unless --as-root', async () => {
    const sudo = { SUDO_UID: '65534', SUDO_GID: '65534', SUDO_USER: 'nobody' };
    const probe = ['/usr/bin/id', '-u'];
    const asUser = await lifetop(['--json', '--', ...probe], { env: sudo });
    expect(asUser.code).toBe(0);
    expect(asUser.events.find((e) => e.type === 'exec')).toMatchObject({ comm: 'id', uid: 65534 });
    const asRoot = await lifetop(['--json', '--as-root', '--', ...probe], { env: sudo });
    expect(asRoot.events.find((e) => e.type === 'exec')).toMatchObject({ comm: 'id', uid: 0 });
  }, 30_000);

  it('a command that cannot run: one line, the status a shell gives (127, 126)', async () => {
    const missing = await lifetop(['--json', '--', 'ltl-no-such-command']);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toBe('lifetop: "ltl-no-such-command": command not found\n');
    const plain = path.join(dir, 'not-executable');
    fs.writeFileSync(plain, 'text\n', { mode: 0o644 });
    const notExec = await lifetop(['--json', '--', plain]);
    expect(notExec.code).toBe(126);
    expect(notExec.stderr).toBe(`lifetop: "${plain}": not an executable file\n`);
  }, 30_000);

  it('-f narrows the tree shown: only the matching processes of it', async () => {
    const code = 'import subprocess; subprocess.run(["/bin/true"]); subprocess.run(["/bin/sh", "-c", "exit 0"])';
    const ran = await lifetop(['--json', '-f', 'sh', '--', py, '-c', code]);
    expect(ran.code).toBe(0);
    expect([...new Set(ran.events.map((e) => e.comm))]).toEqual(['sh']);
    expect(ran.events.map((e) => e.type)).toEqual(['exec', 'exit']);
  }, 30_000);
});
