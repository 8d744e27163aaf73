// --metrics beside --json on the real kernel: the stream and the metrics tell the same exits; the
// run time of lifetop's BPF programs shows while the kernel's BPF statistics are on (turned on here
// through BPF_ENABLE_STATS, as bpftop does: it lasts only while its fd is held, nothing global is left changed).
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bpfObjectsOf, bpfUnavailable, expectDetached, skipReason, startLifetop, stopLifetop, waitFor } from '../support/lifetop';
import { freePort, sample, scrape, until } from '../support/prometheus';
import { exited, firstLine, PYTHON, pythonAs } from '../support/workload';

const skip = skipReason(bpfUnavailable());

// bpf(BPF_ENABLE_STATS = 32, { type: BPF_STATS_RUN_TIME = 0 }) on x86_64 (syscall 321); holds the fd until stdin closes.
const HOLD_STATS = `
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
attr = ctypes.create_string_buffer(8)
fd = libc.syscall(321, 32, attr, 8)
print(fd if fd >= 0 else -ctypes.get_errno(), flush=True)
sys.stdin.read()
`;

describe.skipIf(skip)('--metrics with --json', () => {
  let dir: string;
  let holder: ChildProcess | undefined;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifetop-kmetrics-'));
  });
  afterAll(async () => {
    if (holder && holder.exitCode === null) {
      holder.stdin!.end();
      await exited(holder);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('counts the exits the stream shows, and the BPF programs\' run time while stats are on', async () => {
    if (os.arch() === 'x64') {
      holder = spawn(PYTHON, ['-c', HOLD_STATS], { stdio: ['pipe', 'pipe', 'inherit'] });
      expect(Number(await firstLine(holder))).toBeGreaterThanOrEqual(0);
    }
    const port = await freePort();
    const lt = await startLifetop(['--json', '--metrics', String(port), '-f', 'ltkm-*']);
    try {
      const child = spawn(pythonAs(dir, 'ltkm-code2'), ['-c', 'import sys; sys.exit(2)'], { stdio: 'ignore' });
      expect(await exited(child)).toEqual({ code: 2, signal: null });
      const evs = await waitFor(lt, (e) => e.some((x) => x.type === 'exit' && x.pid === child.pid));
      expect(evs.find((x) => x.type === 'exit' && x.pid === child.pid)).toMatchObject({ exit_code: 2, comm: 'ltkm-code2' });
      const { series } = await until('the exit in the metrics', async () => {
        const got = await scrape(`127.0.0.1:${port}`);
        return sample(got.series, 'lifetop_exits_total', { group: 'ltkm-code2', reason: 'code' }) === 1 ? got : undefined;
      });
      expect(sample(series, 'lifetop_process_lifetime_seconds_count', { group: 'ltkm-code2' })).toBe(1);
      expect(sample(series, 'lifetop_traced_exits_total')).toBeGreaterThanOrEqual(1);
      expect(sample(series, 'lifetop_build_info', { source: 'bpf' })).toBe(1);
      if (holder) {
        expect(sample(series, 'lifetop_bpf_runs_total')).toBeGreaterThan(0);
        expect(sample(series, 'lifetop_bpf_run_seconds_total')).toBeGreaterThan(0);
      }
    } finally {
      const held = bpfObjectsOf(lt.child.pid!);
      expect(await stopLifetop(lt)).toBe(0);
      await expectDetached(held);
    }
  });
});
