// Cgroup ids to paths. A cgroup's kernfs id is the inode number of its directory, so a walk of
// the mounted hierarchy maps id -> path (relative to the mount). The kernel sends ids (the v2 one
// in every header, the v1 memory controller's in exec records); this resolves them, cached by
// id, rescanning a hierarchy at most once per second when an id is not known (a new cgroup).
// Also reads /proc/PID/cgroup for processes found in /proc (seeded, recovered, polled).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { pickCgroup, unitOf } from '../core/cgroup';
import { matchUnit } from '../core/filter';
import { readText } from './procfs';

const RESCAN_MS = 1000;
/** A walk stops after this many directories (a machine with a pathological number of cgroups). */
const MAX_DIRS = 100_000;

/** Inode number -> path relative to root ('/' for root itself), for every directory under root. */
export function scanTree(root: string, limit = MAX_DIRS): Map<string, string> {
  const out = new Map<string, string>();
  let rootIno: bigint;
  try {
    rootIno = fs.statSync(root, { bigint: true }).ino;
  } catch {
    return out;
  }
  out.set(rootIno.toString(), '/');
  const stack: string[] = [''];
  while (stack.length > 0 && out.size < limit) {
    const rel = stack.pop()!;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path.join(root, rel), { withFileTypes: true });
    } catch {
      continue; // removed while we walked
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const child = rel + '/' + e.name;
      try {
        out.set(fs.statSync(path.join(root, child), { bigint: true }).ino.toString(), child);
      } catch {
        continue;
      }
      stack.push(child);
    }
  }
  return out;
}

/** One mounted hierarchy: ids resolved from a cached walk, rescanned on a miss at most once per RESCAN_MS. */
export class Hierarchy {
  private byId = new Map<string, string>();
  private scannedAt = -Infinity;

  constructor(readonly root: string | null, private readonly clock: () => number = Date.now) {}

  /** The path of the cgroup with this id, or null (unknown, or no such hierarchy mounted). */
  path(id: string): string | null {
    if (!this.root || id === '' || id === '0') return null;
    const hit = this.byId.get(id);
    if (hit !== undefined) return hit;
    const now = this.clock();
    if (now - this.scannedAt < RESCAN_MS) return null;
    this.scannedAt = now;
    this.byId = scanTree(this.root);
    return this.byId.get(id) ?? null;
  }
}

/** Where the hierarchies are mounted, from /proc/self/mountinfo; null for one that is not. */
export function cgroupMounts(mountinfo = readText('/proc/self/mountinfo') ?? ''): { v2: string | null; memory: string | null } {
  let v2: string | null = null;
  let memory: string | null = null;
  for (const line of mountinfo.split('\n')) {
    // id parent major:minor root mountpoint options - fstype source superoptions
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const [fstype, , superopts = ''] = line.slice(sep + 3).split(' ');
    const mountpoint = left[4]?.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (!mountpoint || left[3] !== '/') continue; // a bind of a subtree would give wrong paths
    if (fstype === 'cgroup2' && v2 === null) v2 = mountpoint;
    if (fstype === 'cgroup' && memory === null && superopts.split(',').includes('memory')) memory = mountpoint;
  }
  return { v2, memory };
}

export interface Placement { cgroup: string; unit: string }

/** Resolves the kernel's ids to a cgroup path and unit (cached by the pair of ids). */
export class CgroupResolver {
  private readonly v2: Hierarchy;
  private readonly memory: Hierarchy;
  private readonly cache = new Map<string, Placement>();

  constructor(mounts: { v2: string | null; memory: string | null } = cgroupMounts(), clock: () => number = Date.now) {
    this.v2 = new Hierarchy(mounts.v2, clock);
    this.memory = new Hierarchy(mounts.memory, clock);
  }

  /** Whether a v1 memory hierarchy is mounted (hybrid systems): else v2 and /proc (cpu's) must do. */
  get hasMemory(): boolean {
    return this.memory.root !== null;
  }

  /** A memory cgroup's path from its id: the v1 memory controller's where mounted, else the v2 hierarchy's. */
  memoryPath(id: string): string | null {
    return this.memory.root ? this.memory.path(id) : this.v2.path(id);
  }

  /** v2Id: the header's cgroup_id; memcgId: the exec record's v1 memory cgroup id ('0' or absent: none). */
  resolve(v2Id: string, memcgId = '0'): Placement | null {
    const key = v2Id + ':' + memcgId;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const v2 = this.v2.path(v2Id);
    const memory = v2 === null || v2 === '/' ? this.memory.path(memcgId) : null;
    if (v2 === null && memory === null) return null; // not resolvable now: a later event may be
    const cgroup = pickCgroup(v2, memory);
    const placed = { cgroup, unit: unitOf(cgroup) };
    if (this.cache.size > 4096) this.cache.clear();
    this.cache.set(key, placed);
    return placed;
  }
}


/** What the kernel checks at exec for --unit: cgroups known not to match, by kernfs id. */
export interface UnitDeny {
  /** v2 cgroups: 1 deny; 2 the root, where the v1 memory cgroup decides (hybrid systems). */
  v2: [number, number][];
  /** v1 memory cgroups whose unit does not match. */
  memcg: number[];
}

/**
 * The deny lists for unit patterns, from a walk of the hierarchies now. A cgroup made later is in
 * neither list, so its processes reach user space, which decides: the kernel filter never misses.
 */
export function unitDenyLists(units: string[], mounts = cgroupMounts()): UnitDeny {
  const v2: [number, number][] = [];
  if (mounts.v2) {
    for (const [id, rel] of scanTree(mounts.v2)) {
      if (rel === '/') v2.push([Number(id), 2]);
      else if (!matchUnit(units, unitOf(rel))) v2.push([Number(id), 1]);
    }
  }
  const memcg: number[] = [];
  if (mounts.memory) for (const [id, rel] of scanTree(mounts.memory)) if (!matchUnit(units, unitOf(rel))) memcg.push(Number(id));
  return { v2, memcg };
}
