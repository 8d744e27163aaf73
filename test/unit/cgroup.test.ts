// Where it ran: the unit derived from a cgroup path, which hierarchy's path to believe, and the
// id -> path resolver (kernfs ids are directory inode numbers) on a tree built here.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseProcCgroup, pickCgroup, unitOf } from '../../src/core/cgroup';
import { FilterError, matchUnit, parseUnitFilter } from '../../src/core/filter';
import { CgroupResolver, cgroupMounts, Hierarchy, scanTree } from '../../src/source/cgroups';
import { expectOneLineError } from '../support/errors';

const ID = '3f4e5d6c7b8a99887766554433221100ffeeddccbbaa00112233445566778899';

describe('unitOf', () => {
  it.each([
    ['/', ''],
    ['', ''],
    ['/system.slice/nginx.service', 'nginx.service'],
    ['/system.slice', 'system.slice'],
    ['/user.slice/user-1000.slice/session-3.scope', 'session-3.scope'],
    ['/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service', 'foo.service'],
    ['/system.slice/run-r1234.scope', 'run-r1234.scope'],
    ['/user.slice/user-1000.slice', 'user-1000.slice'], // only slices: the innermost
    ['/system.slice/docker-' + ID + '.scope', ID.slice(0, 12)],
    ['/docker/' + ID, ID.slice(0, 12)],
    ['/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1234abcd_5678_90ab_cdef_1234567890ab.slice/cri-containerd-'
      + ID + '.scope', ID.slice(0, 12)],
    ['/kubepods.slice/kubepods-pod1234abcd_5678_90ab_cdef_1234567890ab.slice', '1234abcd-5678-90ab-cdef-1234567890ab'],
    ['/kubepods/burstable/pod1234abcd-5678-90ab-cdef-1234567890ab', '1234abcd-5678-90ab-cdef-1234567890ab'],
    ['/machine.slice/crio-' + ID + '.scope', ID.slice(0, 12)],
    ['/lifetop-cg-42', 'lifetop-cg-42'],
    ['/process_api/57b43f0142a2fd9f', '57b43f0142a2fd9f'],
    ['/docker/notanid', 'notanid'],
  ])('%s -> %s', (p, unit) => {
    expect(unitOf(p)).toBe(unit);
  });

  it('keeps hostile names as they are (outputs escape them, like comm)', () => {
    expect(unitOf('/evil\x1b[2J{red-bg}')).toBe('evil\x1b[2J{red-bg}');
  });
});

describe('which path says where it ran', () => {
  it('takes v2 unless it is the root, then v1 memory, else cpu', () => {
    expect(pickCgroup('/system.slice/a.service', '/x')).toBe('/system.slice/a.service');
    expect(pickCgroup('/', '/lifetop-cg-1')).toBe('/lifetop-cg-1');
    expect(pickCgroup('/', null, '/cpu-only')).toBe('/cpu-only');
    expect(pickCgroup('/', null, null)).toBe('/');
    expect(pickCgroup(null, null, null)).toBe('');
  });

  it('parses /proc/PID/cgroup of hybrid and v2 systems', () => {
    const hybrid = '12:pids:/\n4:memory:/lifetop-cg-9\n2:cpu,cpuacct:/grp\n1:name=systemd:/user.slice\n0::/\n';
    expect(parseProcCgroup(hybrid)).toEqual({ v2: '/', memory: '/lifetop-cg-9', cpu: '/grp' });
    expect(parseProcCgroup('0::/system.slice/ssh.service\n')).toEqual({ v2: '/system.slice/ssh.service', memory: null, cpu: null });
    // A cgroup name may hold ':' (the path is everything after the second one).
    expect(parseProcCgroup('4:memory:/a:b\n').memory).toBe('/a:b');
  });
});

describe('unit filter', () => {
  it('uses the comm filter syntax: exact or prefix*, comma list; empty clears', () => {
    expect(parseUnitFilter('nginx.service, docker*')).toEqual(['nginx.service', 'docker*']);
    expect(parseUnitFilter('  ')).toBeNull();
    expect(parseUnitFilter('a-very-long-unit-name-beyond-fifteen.service')).toEqual(['a-very-long-unit-name-beyond-fifteen.service']);
    expectOneLineError(() => parseUnitFilter('a*b'), FilterError, /"\*" must be the last character/);
    expectOneLineError(() => parseUnitFilter('x,,y'), FilterError, /empty pattern/);
    expectOneLineError(() => parseUnitFilter('bad\x1b'), FilterError, /non-printable/);
    expect(matchUnit(['nginx*'], 'nginx.service')).toBe(true);
    expect(matchUnit(['nginx'], 'nginx.service')).toBe(false);
    expect(matchUnit(['x.scope'], undefined)).toBe(false);
    expect(matchUnit(null, undefined)).toBe(true);
  });
});

describe('id -> path resolver (inode numbers of a tree built here)', () => {
  let dir: string;
  const ino = (p: string) => fs.statSync(path.join(dir, p), { bigint: true }).ino.toString();
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifetop-cg-'));
    fs.mkdirSync(path.join(dir, 'system.slice/nginx.service'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'lifetop-cg-1'));
    fs.writeFileSync(path.join(dir, 'cgroup.procs'), ''); // files are not cgroups
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('maps every directory inode to its path relative to the mount', () => {
    const tree = scanTree(dir);
    expect(tree.get(ino('.'))).toBe('/');
    expect(tree.get(ino('system.slice'))).toBe('/system.slice');
    expect(tree.get(ino('system.slice/nginx.service'))).toBe('/system.slice/nginx.service');
    expect(tree.get(ino('lifetop-cg-1'))).toBe('/lifetop-cg-1');
    expect(tree.size).toBe(4);
  });

  it('rescans on a miss at most once per second, and caches hits', () => {
    let now = 1000;
    const h = new Hierarchy(dir, () => now);
    expect(h.path(ino('lifetop-cg-1'))).toBe('/lifetop-cg-1');
    fs.mkdirSync(path.join(dir, 'late'));
    now += 500;
    expect(h.path(ino('late'))).toBeNull(); // scanned 0.5 s ago: not again yet
    now += 600;
    expect(h.path(ino('late'))).toBe('/late');
    expect(h.path('0')).toBeNull();
    expect(new Hierarchy(null).path(ino('late'))).toBeNull();
  });

  it('prefers the v2 path, falls back to v1 memory where v2 says root', () => {
    const v2 = fs.mkdtempSync(path.join(os.tmpdir(), 'lifetop-cg2-'));
    try {
      fs.mkdirSync(path.join(v2, 'app.slice/web.service'), { recursive: true });
      const v2ino = (p: string) => fs.statSync(path.join(v2, p), { bigint: true }).ino.toString();
      const r = new CgroupResolver({ v2, memory: dir });
      expect(r.resolve(v2ino('app.slice/web.service'), ino('lifetop-cg-1'))).toEqual({ cgroup: '/app.slice/web.service', unit: 'web.service' });
      expect(r.resolve(v2ino('.'), ino('lifetop-cg-1'))).toEqual({ cgroup: '/lifetop-cg-1', unit: 'lifetop-cg-1' });
      expect(r.resolve(v2ino('.'), ino('.'))).toEqual({ cgroup: '/', unit: '' });
      expect(r.resolve(v2ino('.'))).toEqual({ cgroup: '/', unit: '' });
    } finally {
      fs.rmSync(v2, { recursive: true, force: true });
    }
  });

  it('finds the mounts in mountinfo (whole hierarchies only)', () => {
    const info = [
      '30 25 0:26 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw',
      '31 25 0:27 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu',
      '35 25 0:31 /sub /elsewhere rw - cgroup cgroup rw,memory',
      '36 25 0:31 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory',
    ].join('\n');
    expect(cgroupMounts(info)).toEqual({ v2: '/sys/fs/cgroup/unified', memory: '/sys/fs/cgroup/memory' });
    expect(cgroupMounts('')).toEqual({ v2: null, memory: null });
  });
});
