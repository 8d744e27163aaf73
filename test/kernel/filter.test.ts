// The filter has one definition (matchComm); the BPF side mirrors it. One table, checked
// against the kernel: every comm below is exec'd for real (a link named like it) and
// lifetop must report exactly the ones matchComm accepts.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { matchComm } from '../../src/core/filter';
import { bpfUnavailable, run, skipReason, startLifetop, stopLifetop, waitFor, type Running } from '../support/lifetop';

const skip = skipReason(bpfUnavailable());

const COMMS = ['ltf', 'ltfa', 'ltfab', 'ltfabc', 'ltfx-exact', 'ltfx-exact2', 'ltfx-exac', 'ltfy0123456789a', 'ltfy0123456789ab', 'other-ltf'];
const TABLE: string[][] = [
  ['ltfa*'],
  ['ltfab'],
  ['ltf*', 'ltfx-exact'],
  ['ltfx-exact'],
  ['ltfy0123456789a'], // 15 bytes: the whole comm
  ['ltfy0123456789*'],
  ['ltfab', 'ltfx-exac*'],
  ['*'], // everything (lt_config.match_all)
];

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifetop-filter-'));
  for (const comm of [...COMMS, 'ltf-sentinel']) fs.symlinkSync('/bin/true', path.join(dir, comm));
});

describe.skipIf(skip)('the kernel filter matches as matchComm does', () => {
  let lt: Running | undefined;
  afterEach(async () => {
    if (lt) await stopLifetop(lt);
    lt = undefined;
  });

  it.each(TABLE.map((patterns) => [patterns.join(',')]))('-f %s', async (filter) => {
    const patterns = filter.split(',');
    lt = await startLifetop(['--json', '--no-children', '-f', `${filter},ltf-sentinel`]);
    const pids = new Map<string, number>();
    for (const comm of COMMS) pids.set(comm, (await run(path.join(dir, comm), [])).pid);
    // Events arrive in order: once the sentinel's exit is in, every earlier one is too.
    const sentinel = (await run(path.join(dir, 'ltf-sentinel'), [])).pid;
    const evs = await waitFor(lt, (e) => e.some((x) => x.type === 'exit' && x.pid === sentinel));
    const seen = COMMS.filter((comm) => evs.some((x) => x.type === 'exec' && x.pid === pids.get(comm)));
    // The kernel truncates comm to 15 bytes, as matchComm sees it in every event.
    expect(seen).toEqual(COMMS.filter((comm) => matchComm(patterns, comm.slice(0, 15))));
    expect(seen.length).toBeGreaterThan(0);
  });
});
