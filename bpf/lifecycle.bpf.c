// SPDX-License-Identifier: GPL-2.0
/* lifecycle.bpf.c: fork/exec/exit of processes, filtered in the kernel by comm
 * pattern and by descent, sent to userspace through one ring buffer; per-CPU
 * counters for everything (traced or not) feed the rate sparklines. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "lifecycle.h"

char LICENSE[] SEC("license") = "GPL";

/* ---- maps ---- */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, LT_DEFAULT_RINGBUF); /* resized by userspace before load */
} events SEC(".maps");

/* tgids whose lifecycle we report: matched by comm, or descendants of those. The value
 * is the process's start time in ticks, so an entry left by a process whose exit was
 * lost never makes a later process with the same pid look traced. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LT_TRACED_MAX);
	__type(key, __u32);
	__type(value, __u64);
} traced SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LT_MAX_PATTERNS);
	__type(key, __u32);
	__type(value, struct lt_pattern);
} patterns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lt_config);
} filter_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LT_CTR_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* Exec records are too big for the BPF stack: build them here, send only the used part. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lt_exec);
} exec_heap SEC(".maps");

/* ---- helpers ---- */

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);

	if (v)
		*v += 1; /* per-CPU slot: no atomic needed */
}

static __always_inline struct lt_config *get_config(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&filter_config, &zero);
}

static __always_inline __u64 start_ticks(struct task_struct *task)
{
	return BPF_CORE_READ(task, group_leader, start_boottime) / LT_NS_PER_TICK;
}

/* Traced means: an entry for this tgid made for this very process (same start). */
static __always_inline int is_traced(__u32 tgid, __u64 ticks)
{
	__u64 *v = bpf_map_lookup_elem(&traced, &tgid);

	if (!v)
		return 0;
	if (*v == ticks)
		return 1;
	bpf_map_delete_elem(&traced, &tgid); /* stale: its process's exit was never seen */
	return 0;
}

static __always_inline void track(__u32 tgid, __u64 ticks)
{
	if (bpf_map_update_elem(&traced, &tgid, &ticks, BPF_ANY))
		count(LT_CTR_TRACK_FAILS);
}

/* Batch wakeups: let the consumer's short poll pick records up, unless the
 * buffer is filling, when waking it now avoids drops. */
static __always_inline __u64 wakeup_flags(void)
{
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	__u64 size = bpf_ringbuf_query(&events, BPF_RB_RING_SIZE);

	return avail > size / LT_WAKEUP_DIVISOR ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

static __always_inline int comm_matches(const char *comm)
{
	struct lt_config *cfg = get_config();
	__u32 n, i, j;

	if (!cfg)
		return 0;
	if (cfg->match_all)
		return 1;
	n = cfg->npatterns;
	for (i = 0; i < LT_MAX_PATTERNS; i++) {
		struct lt_pattern *p;
		__u32 key = i;
		int ok = 1;

		if (i >= n)
			break;
		p = bpf_map_lookup_elem(&patterns, &key);
		if (!p)
			break;
		for (j = 0; j < LT_COMM_LEN; j++) {
			if (j >= p->len)
				break;
			if (comm[j] != p->text[j]) {
				ok = 0;
				break;
			}
		}
		/* exact match also needs the comm to end where the pattern does */
		if (ok && (p->prefix || p->len >= LT_COMM_LEN || comm[p->len & (LT_COMM_LEN - 1)] == '\0'))
			return 1;
	}
	return 0;
}

static __always_inline void fill_header(struct lt_header *h, struct task_struct *task, __u32 type)
{
	struct task_struct *leader = BPF_CORE_READ(task, group_leader);

	h->ts_ns = bpf_ktime_get_boot_ns();
	h->start_ns = BPF_CORE_READ(leader, start_boottime);
	h->cgroup_id = bpf_get_current_cgroup_id();
	h->type = type;
	h->pid = BPF_CORE_READ(task, tgid);
	h->ppid = BPF_CORE_READ(task, real_parent, tgid);
	h->tid = BPF_CORE_READ(task, pid);
	h->uid = BPF_CORE_READ(task, cred, uid.val);
	h->_pad0 = 0;
	/* The process's name, never a thread's: a renamed worker thread may die last. */
	BPF_CORE_READ_STR_INTO(&h->comm, leader, comm);
}

/* ---- fork: count every clone; report process forks of traced parents ---- */

SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
	struct lt_config *cfg;
	struct lt_fork *e;
	__u32 child_pid = BPF_CORE_READ(child, pid);
	__u32 child_tgid = BPF_CORE_READ(child, tgid);
	__u32 parent_tgid = BPF_CORE_READ(parent, tgid);

	if (child_pid != child_tgid) {
		count(LT_CTR_THREADS);
		return 0;
	}
	count(LT_CTR_FORKS);

	cfg = get_config();
	if (!cfg || !cfg->follow_children || !is_traced(parent_tgid, start_ticks(parent)))
		return 0;
	track(child_tgid, BPF_CORE_READ(child, start_boottime) / LT_NS_PER_TICK);
	count(LT_CTR_TRACED_FORKS);

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(LT_CTR_DROPS);
		return 0;
	}
	fill_header(&e->hdr, parent, LT_EVENT_FORK);
	e->child_pid = child_tgid;
	e->child_start_ns = BPF_CORE_READ(child, start_boottime);
	e->_pad1 = 0;
	bpf_ringbuf_submit(e, wakeup_flags());
	return 0;
}

/* ---- exec: report when the new comm matches, or the process is already traced ---- */

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 zero = 0, tgid = BPF_CORE_READ(task, tgid);
	struct lt_exec *e;
	unsigned long arg_start, arg_end, len;
	long n;

	count(LT_CTR_EXECS);
	e = bpf_map_lookup_elem(&exec_heap, &zero);
	if (!e)
		return 0;
	fill_header(&e->hdr, task, LT_EVENT_EXEC);
	if (!is_traced(tgid, e->hdr.start_ns / LT_NS_PER_TICK)) {
		if (!comm_matches(e->hdr.comm))
			return 0;
		track(tgid, e->hdr.start_ns / LT_NS_PER_TICK);
	}
	count(LT_CTR_TRACED_EXECS);

	n = bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), BPF_CORE_READ(bprm, filename));
	e->filename_len = n > 0 ? n - 1 : 0;

	/* argv of the new image, as the kernel laid it out on the new stack */
	arg_start = BPF_CORE_READ(task, mm, arg_start);
	arg_end = BPF_CORE_READ(task, mm, arg_end);
	len = arg_end > arg_start ? arg_end - arg_start : 0;
	e->args_truncated = len > LT_ARGS_MAX;
	if (len > LT_ARGS_MAX)
		len = LT_ARGS_MAX;
	e->args_len = 0;
	if (len > 0 && bpf_probe_read_user(e->args, len & (LT_ARGS_MAX - 1) ?: LT_ARGS_MAX,
					   (const void *)arg_start) == 0)
		e->args_len = len;
	e->_pad1[0] = e->_pad1[1] = e->_pad1[2] = 0;

	len = offsetof(struct lt_exec, args) + (e->args_len & (LT_ARGS_MAX * 2 - 1));
	if (len > sizeof(*e))
		len = sizeof(*e);
	if (bpf_ringbuf_output(&events, e, len, wakeup_flags()))
		count(LT_CTR_DROPS);
	return 0;
}

/* ---- exit: once per process, when its last thread dies ---- */

static __always_inline int handle_process_exit(struct task_struct *task)
{
	struct task_struct *leader = BPF_CORE_READ(task, group_leader);
	struct signal_struct *sig = BPF_CORE_READ(task, signal);
	__u32 tgid = BPF_CORE_READ(task, tgid);
	struct lt_exit *e;
	__u32 status;
	__u64 *v;

	count(LT_CTR_EXITS);
	v = bpf_map_lookup_elem(&traced, &tgid);
	if (!v)
		return 0;
	/* The delete is the claim: of several threads that get here (signal->live seen at 0
	 * by more than one), only the one whose delete succeeds reports. A stale entry
	 * (another process's start) is removed and not reported. */
	if (*v != BPF_CORE_READ(leader, start_boottime) / LT_NS_PER_TICK) {
		bpf_map_delete_elem(&traced, &tgid);
		return 0;
	}
	if (bpf_map_delete_elem(&traced, &tgid))
		return 0;
	count(LT_CTR_TRACED_EXITS);

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(LT_CTR_DROPS);
		return 0;
	}
	fill_header(&e->hdr, task, LT_EVENT_EXIT);
	/* The status wait(2) reports: the group's on exit_group or a fatal
	 * signal, else the leader's own exit code (it may have exited first). */
	if (BPF_CORE_READ(sig, flags) & LT_SIGNAL_GROUP_EXIT)
		status = BPF_CORE_READ(sig, group_exit_code);
	else
		status = BPF_CORE_READ(leader, exit_code);
	e->exit_code = (status >> 8) & 0xff;
	e->signal = status & 0x7f;
	e->core_dumped = (status & 0x80) != 0;
	__builtin_memset(e->_pad1, 0, sizeof(e->_pad1));
	e->duration_ns = e->hdr.ts_ns - e->hdr.start_ns;
	/* dead threads' runtime is in signal; this last one's is still its own */
	e->cpu_ns = BPF_CORE_READ(sig, sum_sched_runtime) + BPF_CORE_READ(task, se.sum_exec_runtime);
	bpf_ringbuf_submit(e, wakeup_flags());
	return 0;
}

/* Kernels >= 6.16 pass group_dead: exactly one thread sees true. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit_group_dead, struct task_struct *task, bool group_dead)
{
	if (!group_dead)
		return 0;
	return handle_process_exit(task);
}

/* Older kernels: signal->live was decremented before the tracepoint; 0 means last thread. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit_live, struct task_struct *task)
{
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	return handle_process_exit(task);
}
