// Why it ended, against the real kernel: who sent the fatal signal (another process under a
// hostile name, the process itself, the kernel for a fault) and the OOM killer in a memory
// cgroup made here, told apart from a plain `kill -9`. Each test runs python under its own
// name (a symlink), so processes of tests running in parallel never mix in.
import { spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN, bpfUnavailable, skipReason, startLifetop as start, stopLifetop, waitFor, type Running } from '../support/lifetop';
import { Children, exited, firstLine, pythonAs } from '../support/workload';

const skip = skipReason(bpfUnavailable());
/** 15 bytes, the most a comm holds: an escape sequence that would turn a terminal red. */
const HOSTILE = 'k\x1b[31m\x07ill{x}';

interface KilledBy { pid: number; comm: string; uid: number; kernel: boolean }
interface ExitJson {
  type: string; pid: number; comm: string; exit_code: number; signal: number; core_dumped: boolean;
  reason?: string; killed_by?: KilledBy | null; oom_rss_kb?: number; oom_memcg?: string;
}

let dir: string;
const children = new Children();
const python = (name: string): string => pythonAs(dir, name);
const launch = (exe: string, code: string, args: string[] = []): ChildProcess => children.start(exe, code, args, { stdin: 'pipe', cwd: dir });

function exitOf(lt: Running, pid: number): Promise<ExitJson> {
  return waitFor(lt, (e) => e.some((x) => x.type === 'exit' && x.pid === pid))
    .then((evs) => evs.find((x) => x.type === 'exit' && x.pid === pid) as unknown as ExitJson);
}

/** The raw NDJSON line of a pid's exit, as lifetop wrote it. */
function rawExitLine(lt: Running, pid: number): string {
  return lt.lines.find((l) => l.startsWith('{"type":"exit"') && (JSON.parse(l) as { pid: number }).pid === pid)!;
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifetop-reason-'));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  children.killAll();
});

const SLEEPER = "import sys, time; print('ready', flush=True); time.sleep(60)";

/** Renames itself (prctl PR_SET_NAME) to argv[2], then sends SIGTERM to argv[1]. */
const KILLER = [
  'import ctypes, os, sys',
  "ctypes.CDLL(None).prctl(15, sys.argv[2].encode('latin-1'), 0, 0, 0)",
  'os.kill(int(sys.argv[1]), 15)',
].join('\n');

/** A child that dies of a real fault (SIGSEGV at address 0); the parent reports what wait(2) saw. */
const FAULTER = [
  'import ctypes, os, resource',
  'pid = os.fork()',
  'if pid == 0:',
  '    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))',
  '    ctypes.string_at(0)',
  '    os._exit(0)',
  '_, status = os.waitpid(pid, 0)',
  'print(pid, os.WTERMSIG(status) if os.WIFSIGNALED(status) else -1, int(os.WCOREDUMP(status)), flush=True)',
].join('\n');

describe.skipIf(skip).each(['auto', 'live'])('exit reason: the sender of a fatal signal (exit program %s)', (program) => {
  let lt: Running | undefined;
  const startLifetop = (args: string[]) => start(args, { env: { LIFETOP_EXIT_PROGRAM: program } });
  afterEach(async () => {
    if (lt) await stopLifetop(lt);
    lt = undefined;
  });

  it('names the process that sent it: pid, comm (a hostile one, escaped), uid; replayed the same', async () => {
    const name = `ltxr-${program}`;
    const rec = path.join(dir, `sender-${program}.ndjson`);
    lt = await startLifetop(['--json', '-f', name, '--record', rec]);
    const victim = launch(python(name), SLEEPER);
    await firstLine(victim);
    const killer = launch(python(`ltxk-${program}`), KILLER, [String(victim.pid), HOSTILE]);
    expect((await exited(killer)).code).toBe(0);
    expect((await exited(victim)).signal).toBe('SIGTERM');

    const exit = await exitOf(lt, victim.pid!);
    expect(exit).toMatchObject({ signal: 15, exit_code: 0, reason: 'signal' });
    expect(exit.killed_by).toEqual({ pid: killer.pid, comm: HOSTILE, uid: 0, kernel: false });
    const line = rawExitLine(lt, victim.pid!);
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/); // the sender's name is escaped, never raw
    expect(line).toContain('"killed_by":{"pid":' + killer.pid + ',"comm":"k\\u001b[31m\\u0007ill{x}","uid":0,"kernel":false}');

    await stopLifetop(lt);
    lt = undefined;
    const replay = spawnSync(process.execPath, [BIN, '--json', '--replay', rec], { encoding: 'utf8' });
    expect(replay.status).toBe(0);
    const replayed = replay.stdout.split('\n').find((l) => l.startsWith('{"type":"exit"') && (JSON.parse(l) as { pid: number }).pid === victim.pid);
    expect(replayed).toBe(line);
  });

  it('names the process itself when it signals itself', async () => {
    const name = `ltxs-${program}`;
    lt = await startLifetop(['--json', '-f', name]);
    const self = launch(python(name), 'import os, signal; os.kill(os.getpid(), signal.SIGTERM)');
    expect((await exited(self)).signal).toBe('SIGTERM');
    const exit = await exitOf(lt, self.pid!);
    expect(exit).toMatchObject({ signal: 15, reason: 'signal' });
    expect(exit.killed_by).toEqual({ pid: self.pid, comm: name, uid: 0, kernel: false });
  });

  it('reports a SIGSEGV from a real fault as the kernel\'s, with the core flag wait(2) saw', async () => {
    const name = `ltxf-${program}`;
    lt = await startLifetop(['--json', '-f', name]);
    const parent = launch(python(name), FAULTER);
    const [child, termsig, core] = (await firstLine(parent)).split(' ').map(Number);
    expect(termsig).toBe(11);
    const exit = await exitOf(lt, child);
    expect(exit).toMatchObject({ signal: 11, core_dumped: core === 1, reason: core === 1 ? 'core' : 'signal' });
    expect(exit.killed_by).toMatchObject({ kernel: true });
    // A normal exit has no sender.
    const parentExit = await exitOf(lt, parent.pid!);
    expect(parentExit).toMatchObject({ exit_code: 0, signal: 0, reason: 'ok', killed_by: null });
  });
});

const CGROUP_V1 = '/sys/fs/cgroup/memory';
const noMemcg = !fs.existsSync(path.join(CGROUP_V1, 'cgroup.procs')) ? 'no cgroup v1 memory controller at /sys/fs/cgroup/memory' : null;

/** Joins the cgroup given as argv[1], says so, waits for a line on stdin, then allocates without end. */
const HOG = [
  'import os, sys',
  "open(sys.argv[1] + '/cgroup.procs', 'w').write(str(os.getpid()))",
  "print('ready', flush=True)",
  'sys.stdin.readline()',
  'chunks = []',
  'while True:',
  "    chunks.append(b'x' * (4 << 20))  # touched: charged to the cgroup at once",
].join('\n');

const JOINER = [
  'import os, sys, time',
  "open(sys.argv[1] + '/cgroup.procs', 'w').write(str(os.getpid()))",
  "print('ready', flush=True)",
  'time.sleep(60)',
].join('\n');

describe.skipIf(skip || skipReason(noMemcg))('exit reason: the OOM killer (a v1 memory cgroup made here)', () => {
  let lt: Running | undefined;
  let cgroup: string | undefined;
  afterEach(async () => {
    children.killAll();
    if (lt) await stopLifetop(lt);
    lt = undefined;
    if (cgroup) {
      // rmdir succeeds once no process is left in it; killed processes take a moment to go.
      for (let i = 0; i < 100 && fs.existsSync(cgroup); i++) {
        try {
          fs.rmdirSync(cgroup);
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      expect(fs.existsSync(cgroup), `cgroup ${cgroup} removed`).toBe(false);
      cgroup = undefined;
    }
  });

  it('reports oom with the RSS at the kill, and a kill -9 of a sibling as a plain signal', async () => {
    cgroup = path.join(CGROUP_V1, `lifetop-test-${process.pid}`);
    fs.mkdirSync(cgroup);
    const limit = 64 << 20;
    fs.writeFileSync(path.join(cgroup, 'memory.limit_in_bytes'), String(limit));
    // No swap to escape to: memory+swap gets the same limit where swap is accounted.
    if (fs.existsSync(path.join(cgroup, 'memory.memsw.limit_in_bytes'))) {
      fs.writeFileSync(path.join(cgroup, 'memory.memsw.limit_in_bytes'), String(limit));
    }
    if (fs.existsSync(path.join(cgroup, 'memory.swappiness'))) fs.writeFileSync(path.join(cgroup, 'memory.swappiness'), '0');

    const name = 'ltxo-py';
    lt = await start(['--json', '-f', name]);
    const sibling = launch(python(name), JOINER, [cgroup]);
    const hog = launch(python(name), HOG, [cgroup]);
    await Promise.all([firstLine(sibling), firstLine(hog)]);
    const procs = fs.readFileSync(path.join(cgroup, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    expect(procs.sort()).toEqual([sibling.pid, hog.pid].sort());

    const kill = spawnSync('kill', ['-9', String(sibling.pid)]);
    expect(kill.status).toBe(0);
    expect((await exited(sibling)).signal).toBe('SIGKILL');
    hog.stdin!.write('go\n');
    expect((await exited(hog)).signal).toBe('SIGKILL');
    expect(Number(/oom_kill (\d+)/.exec(fs.readFileSync(path.join(cgroup, 'memory.oom_control'), 'utf8'))?.[1])).toBeGreaterThan(0);

    const killed = await exitOf(lt, sibling.pid!);
    expect(killed).toMatchObject({ signal: 9, reason: 'signal' });
    expect(killed.killed_by).toEqual({ pid: kill.pid, comm: 'kill', uid: 0, kernel: false });
    expect('oom_rss_kb' in killed).toBe(false);

    const oom = await exitOf(lt, hog.pid!);
    expect(oom).toMatchObject({ signal: 9, reason: 'oom', killed_by: { kernel: true } });
    expect(oom.oom_rss_kb).toBeGreaterThan(32 << 10); // most of the 64 MiB it was allowed
    expect(oom.oom_rss_kb).toBeLessThanOrEqual(80 << 10);
    // The memory cgroup it was in when chosen (it joined it after its exec), resolved from the kernel's id.
    expect(oom.oom_memcg).toBe(`/${path.basename(cgroup)}`);
    expect('oom_memcg' in killed).toBe(false);
  });
});
