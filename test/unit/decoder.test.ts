// The TS decoder against the C layout: offsets from the built addon, and a
// hand-packed batch decoded field by field.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeBatch, LAYOUT, splitArgs } from '../../src/source/bpf';
import { loadAddon } from '../../src/source/native';

const built = fs.existsSync(path.join(__dirname, '../../build/Release/lifetop.node'));
if (!built) process.stderr.write('SKIPPED ABI check: native addon not built (run make)\n');

describe.skipIf(!built)('ABI', () => {
  it('uses the offsets the C structs have', () => {
    const abi = loadAddon().abi();
    expect(abi.header).toMatchObject(LAYOUT.header);
    expect(abi.exec).toMatchObject(LAYOUT.exec);
    expect(abi.exit).toMatchObject(LAYOUT.exit);
    expect(abi.fork).toMatchObject(LAYOUT.fork);
    expect(abi.types).toEqual(LAYOUT.types);
    expect(abi.reasons).toEqual(LAYOUT.reasons);
    expect(abi.exit.size).toBe(136); // header + 72: the OOM memory cgroup joined the tail
    expect(abi.exec.memcg_id).toBe(abi.header.size); // widest first, right after the header
    expect(abi.exec.filename % 8).toBe(0);
    expect(abi.limits.commLen).toBe(LAYOUT.commLen);
  });
});

function record(type: number, size: number, fill: (b: Buffer) => void): Buffer {
  const b = Buffer.alloc(size);
  const H = LAYOUT.header;
  b.writeBigUInt64LE(5_000_000_000n, H.ts_ns);      // 5 s after boot
  b.writeBigUInt64LE(4_000_000_000n, H.start_ns);   // started 4 s after boot
  b.writeBigUInt64LE(2n ** 63n + 7n, H.cgroup_id);  // beyond 2^53: must stay exact
  b.writeUInt32LE(type, H.type);
  b.writeUInt32LE(4242, H.pid);
  b.writeUInt32LE(1, H.ppid);
  b.writeUInt32LE(4243, H.tid);
  b.writeUInt32LE(1000, H.uid);
  b.write('python3\x1b[2J', H.comm);
  fill(b);
  return b;
}

function pack(records: Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const r of records) {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(r.length);
    const pad = Buffer.alloc((8 - ((4 + r.length) % 8)) % 8);
    parts.push(len, r, pad);
  }
  return Buffer.concat(parts);
}

describe('decodeBatch', () => {
  const BOOT = Date.UTC(2026, 0, 1);
  const args = Buffer.from('python3\0-c\0print(1)\0');

  it('decodes exec, exit and fork records with wall-clock times', () => {
    const E = LAYOUT.exec;
    const exec = record(1, E.args + args.length, (b) => {
      b.writeBigUInt64LE(2n ** 60n + 3n, E.memcg_id);  // the v1 memory cgroup's kernfs id, exact
      b.write('/usr/bin/python3', E.filename);
      b.writeUInt16LE(16, E.filename_len);
      b.writeUInt16LE(args.length, E.args_len);
      args.copy(b, E.args);
    });
    const X = LAYOUT.exit;
    const exit = record(2, 136, (b) => {
      b.writeBigUInt64LE(1_000_000_000n, X.duration_ns);
      b.writeBigUInt64LE(250_000_000n, X.cpu_ns);
      b.writeInt32LE(3, X.exit_code);
      b.writeUInt32LE(9, X.signal);
      b[X.core_dumped] = 1;
    });
    const F = LAYOUT.fork;
    const fork = record(3, 80, (b) => {
      b.writeBigUInt64LE(4_500_000_000n, F.child_start_ns);
      b.writeUInt32LE(4300, F.child_pid);
    });
    const [e, x, f] = decodeBatch(pack([exec, exit, fork]), BOOT);
    expect(e).toMatchObject({
      type: 'exec', pid: 4242, ppid: 1, tid: 4243, uid: 1000, comm: 'python3\x1b[2J', start: 4e9,
      time: BOOT + 5000, startedAt: BOOT + 4000, cgroupId: (2n ** 63n + 7n).toString(),
      filename: '/usr/bin/python3', args: ['python3', '-c', 'print(1)'], argsTruncated: false,
      memcgId: (2n ** 60n + 3n).toString(),
    });
    expect(e.cgroup).toBeUndefined(); // resolved to a path in user space (session), not here
    expect(x).toMatchObject({ type: 'exit', exitCode: 3, signal: 9, coreDumped: true, durationMs: 1000, cpuMs: 250 });
    expect('killedBy' in x).toBe(false); // reason none: no sender, no OOM
    expect('oom' in x).toBe(false);
    expect(f).toMatchObject({ type: 'fork', childPid: 4300, childStart: 4.5e9 });
  });

  it('decodes why an exit happened: the sender process (its comm raw), the kernel, the OOM killer', () => {
    const X = LAYOUT.exit;
    const R = LAYOUT.reasons;
    const exitWith = (reason: number) => record(2, 136, (b) => {
      b.writeUInt32LE(reason === R.oom ? 9 : 15, X.signal);
      b.writeBigUInt64LE(421_888n, X.oom_rss_kb);
      b.writeBigUInt64LE(4242n, X.oom_memcg_id);
      b.writeUInt32LE(777, X.sender_pid);
      b.writeUInt32LE(1000, X.sender_uid);
      b.write('k\x1b[31mill{x}\u009b', X.sender_comm, 'latin1'); // hostile bytes: ESC, braces, a lone C1 byte
      b[X.reason] = reason;
    });
    const [user, kernel, oom] = decodeBatch(pack([exitWith(R.signalUser), exitWith(R.signalKernel), exitWith(R.oom)]), BOOT);
    expect(user).toMatchObject({ signal: 15, killedBy: { pid: 777, uid: 1000, kernel: false } });
    expect((user as { killedBy: { comm: string } }).killedBy.comm).toBe(Buffer.from('k\x1b[31mill{x}\u009b', 'latin1').toString('utf8'));
    expect('oom' in user).toBe(false);
    expect(kernel).toMatchObject({ signal: 15, killedBy: { pid: 0, comm: '', uid: 0, kernel: true } });
    expect('oom' in kernel).toBe(false);
    expect(oom).toMatchObject({ signal: 9, killedBy: { kernel: true }, oom: { rssKb: 421_888, memcgId: '4242' } });
  });

  it('stops at a torn record instead of reading past the batch', () => {
    const whole = pack([record(3, 80, () => undefined)]);
    const torn = Buffer.concat([whole, whole.subarray(0, 40)]);
    expect(decodeBatch(torn, BOOT)).toHaveLength(1);
  });

  it('splits argv, keeping a truncated last argument', () => {
    expect(splitArgs(args, 0, args.length)).toEqual(['python3', '-c', 'print(1)']);
    expect(splitArgs(args, 0, 14)).toEqual(['python3', '-c', 'pri']); // cut inside the last argument
    expect(splitArgs(args, 0, 0)).toEqual([]);
  });
});
