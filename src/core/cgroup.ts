// Where a process ran: its cgroup path (which hierarchy to believe) and the short unit name
// derived from it (systemd unit/scope, container id, pod uid). Pure, no I/O: the paths come
// from the kernel's ids (source/cgroups) or /proc/PID/cgroup. Cgroup names are chosen by whoever
// may create cgroups: untrusted text, escaped like comm in every output.

/**
 * The path that says where a process ran: the v2 one, unless that is the root `/` (hybrid v1
 * systems, where only the v1 controllers are used), then the v1 memory controller's, else cpu's.
 * '' when nothing is known.
 */
export function pickCgroup(v2: string | null, memory: string | null, cpu: string | null = null): string {
  if (v2 && v2 !== '/') return v2;
  if (memory) return memory;
  if (cpu) return cpu;
  return v2 ?? '';
}

/** The paths of /proc/PID/cgroup ("0::/path" for v2, "N:memory:/path" or "N:cpu,cpuacct:/path" for v1). */
export function parseProcCgroup(text: string): { v2: string | null; memory: string | null; cpu: string | null } {
  const out: { v2: string | null; memory: string | null; cpu: string | null } = { v2: null, memory: null, cpu: null };
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const [, id, controllers, path] = m;
    if (id === '0' && controllers === '') out.v2 = path;
    const names = controllers.split(',');
    if (names.includes('memory')) out.memory = path;
    if (names.includes('cpu')) out.cpu = path;
  }
  return out;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** A container id (64 hex) cut to the 12 characters docker shows; null if not one. */
function containerId(s: string): string | null {
  return HEX64.test(s) ? s.slice(0, 12) : null;
}

/**
 * The short name of where a cgroup path puts a process: a container id (docker, containerd, cri-o;
 * 12 hex), a Kubernetes pod uid, the systemd unit or scope (the last `.service`/`.scope`, else the
 * last `.slice`), else the last path component; '' for the root.
 */
export function unitOf(path: string): string {
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.length === 0) return '';
  // Containers: the innermost wins.
  for (let i = parts.length - 1; i >= 0; i--) {
    const p = parts[i];
    const scoped = /^(?:docker|cri-containerd|crio|libpod)-([0-9a-f]{64})\.scope$/.exec(p);
    if (scoped) return scoped[1].slice(0, 12);
    if (i > 0 && parts[i - 1] === 'docker') {
      const id = containerId(p);
      if (id) return id;
    }
  }
  // Kubernetes pods: kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid>.slice (systemd
  // driver, uid with '_') or kubepods/burstable/pod<uid> (cgroupfs driver).
  if (parts.some((p) => p.startsWith('kubepods'))) {
    for (let i = parts.length - 1; i >= 0; i--) {
      const pod = /(?:^|-)pod([0-9a-fA-F_-]{8,})(?:\.slice)?$/.exec(parts[i]);
      if (pod) return pod[1].replace(/_/g, '-');
    }
  }
  for (let i = parts.length - 1; i >= 0; i--) {
    if (parts[i].endsWith('.service') || parts[i].endsWith('.scope')) return parts[i];
  }
  for (let i = parts.length - 1; i >= 0; i--) {
    if (parts[i].endsWith('.slice')) return parts[i];
  }
  return parts[parts.length - 1];
}
