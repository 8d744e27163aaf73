// SPDX-License-Identifier: GPL-2.0
/* lifecycle.bpf.c: fork/exec/exit of processes, filtered in the kernel by comm
 * pattern and by descent, sent to userspace through one ring buffer; per-CPU
 * counters for everything (traced or not) feed the rate sparklines. Fatal signals
 * and OOM kills of traced processes are remembered until their exit says why. */
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

/* Why a traced process is dying, kept from the fatal signal (or OOM mark) until its exit. */
struct lt_pending {
	__u64 start_ticks;        /* whose: a reused pid never inherits a reason */
	__u64 oom_rss_kb;
	__u64 oom_memcg_id;
	__u32 signal;
	__u32 reason;             /* enum lt_exit_reason */
	__u32 sender_pid;
	__u32 sender_uid;
	char sender_comm[LT_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LT_PENDING_MAX);
	__type(key, __u32);
	__type(value, struct lt_pending);
} pending SEC(".maps");

/* --unit in the kernel, where it can be: the cgroups known NOT to match (a deny list, so a
 * cgroup created since userspace last looked still passes, and user space decides). Keyed by
 * kernfs id, one map per hierarchy (ids of different hierarchies may collide). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LT_UNIT_DENY_MAX);
	__type(key, __u64);
	__type(value, __u8);
} unit_v2 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LT_UNIT_DENY_MAX);
	__type(key, __u64);
	__type(value, __u8);
} unit_memcg SEC(".maps");

/* Exec records are too big for the BPF stack: build them here, send only the used part. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lt_exec);
} exec_heap SEC(".maps");

/* ---- settings (set by userspace before load) ---- */

const volatile __u32 page_kb = 4; /* page size in KiB: RSS counters count pages */

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

/* The cgroup is known not to match --unit: v2 path where it is not the root, else memory's. */
static __always_inline int unit_denied(__u64 v2_id, __u64 memcg)
{
	struct lt_config *cfg = get_config();
	__u8 *v;

	if (!cfg || !cfg->unit_filter)
		return 0;
	v = bpf_map_lookup_elem(&unit_v2, &v2_id);
	if (!v)
		return 0; /* not known (yet): user space decides */
	if (*v == LT_UNIT_DENY)
		return 1;
	return bpf_map_lookup_elem(&unit_memcg, &memcg) != NULL;
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

/* The v1 memory controller's cgroup of a task: its kernfs id, which is the inode number of
 * its directory under the memory mount. 0 when the kernel has no memory controller. On a
 * v2-only system the controller sits on the v2 hierarchy and this is the v2 id again. */
static __always_inline __u64 memcg_id(struct task_struct *task)
{
	struct cgroup_subsys_state *css;
	int id;

	if (!bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id))
		return 0;
	id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	if (id < 0 || id >= CGROUP_SUBSYS_COUNT)
		return 0;
	css = BPF_CORE_READ(task, cgroups, subsys[id]);
	if (!css)
		return 0;
	return BPF_CORE_READ(css, cgroup, kn, id);
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
	e->memcg_id = memcg_id(task);
	if (!is_traced(tgid, e->hdr.start_ns / LT_NS_PER_TICK)) {
		if (!comm_matches(e->hdr.comm) || unit_denied(e->hdr.cgroup_id, e->memcg_id))
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

/* ---- why it ends: fatal signals and OOM kills of traced processes ---- */

/* Before 6.2, mm->rss_stat was a struct of atomic counters; since, percpu_counters. */
struct mm_rss_stat___pre62 {
	atomic_long_t count[NR_MM_COUNTERS];
} __attribute__((preserve_access_index));

struct mm_struct___pre62 {
	struct mm_rss_stat___pre62 rss_stat;
} __attribute__((preserve_access_index));

/* A fatal outcome: SIGKILL, or a signal whose default action ends the process while the
 * target leaves it at SIG_DFL (a handled SIGTERM is not the end). */
static __always_inline int is_fatal(struct task_struct *task, int sig)
{
	struct sighand_struct *sh;
	void *handler = (void *)1;
	const char *at;

	if (sig == LT_SIGKILL)
		return 1;
	if (sig < 1 || sig > LT_NSIG || (LT_SIG_NOT_FATAL & LT_SIGBIT(sig)))
		return 0;
	sh = BPF_CORE_READ(task, sighand);
	if (!sh)
		return 0;
	/* action[sig - 1]: CO-RE gives action[0]'s place and the element size */
	at = (const char *)&sh->action[0].sa.sa_handler +
	     ((sig - 1) & (LT_NSIG - 1)) * bpf_core_type_size(struct k_sigaction);
	bpf_probe_read_kernel(&handler, sizeof(handler), at);
	return handler == NULL; /* SIG_DFL */
}

/* Resident pages the way get_mm_rss() counts them (file + anon + shmem), in KiB. The
 * percpu counters' shared part only: close enough for "how big was it". */
static __always_inline __u64 rss_kb(struct task_struct *task)
{
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	__s64 pages;

	if (!mm)
		mm = BPF_CORE_READ(task, signal, oom_mm); /* already past exit_mm */
	if (!mm)
		return 0;
	if (bpf_core_type_exists(struct mm_rss_stat___pre62)) {
		struct mm_struct___pre62 *old = (void *)mm;

		pages = BPF_CORE_READ(old, rss_stat.count[MM_FILEPAGES].counter) +
			BPF_CORE_READ(old, rss_stat.count[MM_ANONPAGES].counter) +
			BPF_CORE_READ(old, rss_stat.count[MM_SHMEMPAGES].counter);
	} else {
		pages = BPF_CORE_READ(mm, rss_stat[MM_FILEPAGES].count) +
			BPF_CORE_READ(mm, rss_stat[MM_ANONPAGES].count) +
			BPF_CORE_READ(mm, rss_stat[MM_SHMEMPAGES].count);
	}
	return pages > 0 ? pages * page_kb : 0;
}

/* Fires for every signal sent, after the kernel decided its fate. Remember the last
 * fatal one a traced process got and who sent it: the exit reports it if it is the
 * signal the process died of. */
SEC("tp_btf/signal_generate")
int BPF_PROG(handle_signal, int sig, struct kernel_siginfo *info, struct task_struct *task,
	     int group, int result)
{
	struct lt_pending p = {};
	struct task_struct *sender;
	__u32 tgid;
	int kernel;

	if (result != TRACE_SIGNAL_DELIVERED || !is_fatal(task, sig))
		return 0;
	tgid = BPF_CORE_READ(task, tgid);
	p.start_ticks = start_ticks(task);
	if (!is_traced(tgid, p.start_ticks))
		return 0;
	p.signal = sig;
	/* From the kernel: SEND_SIG_PRIV, or a positive si_code (SI_KERNEL, fault codes such
	 * as SEGV_MAPERR) that no other process may send. SEND_SIG_NOINFO (NULL), SI_USER,
	 * SI_TKILL, SI_QUEUE: a process asked, and it is the one running now. Negative codes
	 * are not trusted to mean the kernel (rt_sigqueueinfo may send them): a posix timer's
	 * SI_TIMER names whatever process its interrupt found running. */
	if ((unsigned long)info == LT_SEND_SIG_PRIV)
		kernel = 1;
	else
		kernel = info && BPF_CORE_READ(info, si_code) > 0;
	if (kernel) {
		p.reason = LT_REASON_SIGNAL_KERNEL;
	} else {
		sender = (struct task_struct *)bpf_get_current_task(); /* _btf() needs 5.11 */
		p.reason = LT_REASON_SIGNAL_USER;
		p.sender_pid = BPF_CORE_READ(sender, tgid);
		p.sender_uid = BPF_CORE_READ(sender, cred, uid.val);
		BPF_CORE_READ_STR_INTO(&p.sender_comm, sender, group_leader, comm);
	}
	bpf_map_update_elem(&pending, &tgid, &p, BPF_ANY);
	return 0;
}

/* The OOM killer chose this task (right after sending it SIGKILL): the same SIGKILL, now
 * known to be the OOM killer's, with the RSS that got it chosen. A task already dying of
 * another fatal signal is marked too (to reach memory reserves), not killed: that signal
 * stays the reason. */
SEC("tp_btf/mark_victim")
int BPF_PROG(handle_oom, struct task_struct *task, uid_t uid)
{
	struct lt_pending p = {}, *old;
	__u32 tgid = BPF_CORE_READ(task, tgid);

	p.start_ticks = start_ticks(task);
	if (!is_traced(tgid, p.start_ticks))
		return 0;
	old = bpf_map_lookup_elem(&pending, &tgid);
	if (old && old->start_ticks == p.start_ticks &&
	    !(old->reason == LT_REASON_SIGNAL_KERNEL && old->signal == LT_SIGKILL))
		return 0;
	p.signal = LT_SIGKILL;
	p.reason = LT_REASON_OOM;
	p.oom_rss_kb = rss_kb(task);
	/* Where it was when chosen (it may have moved since exec): the limit hit is this memory
	 * cgroup's or an ancestor's; the tracepoint does not say which. */
	p.oom_memcg_id = memcg_id(task);
	bpf_map_update_elem(&pending, &tgid, &p, BPF_ANY);
	return 0;
}

/* Moves the pending reason of the process into its exit record; only for the signal it
 * died of (a fatal signal it blocked, then outlived, explains nothing). */
static __always_inline void fill_reason(struct lt_exit *e, __u32 tgid, __u64 ticks)
{
	struct lt_pending *p = bpf_map_lookup_elem(&pending, &tgid);

	e->reason = LT_REASON_NONE;
	e->oom_rss_kb = 0;
	e->oom_memcg_id = 0;
	e->sender_pid = 0;
	e->sender_uid = 0;
	__builtin_memset(e->sender_comm, 0, sizeof(e->sender_comm));
	if (!p)
		return;
	if (p->start_ticks == ticks && p->signal == e->signal && e->signal != 0) {
		e->reason = p->reason;
		e->oom_rss_kb = p->oom_rss_kb;
		e->oom_memcg_id = p->oom_memcg_id;
		e->sender_pid = p->sender_pid;
		e->sender_uid = p->sender_uid;
		__builtin_memcpy(e->sender_comm, p->sender_comm, sizeof(e->sender_comm));
	}
	bpf_map_delete_elem(&pending, &tgid);
}

/* ---- exit: once per process, when its last thread dies ---- */

static __always_inline int handle_process_exit(struct task_struct *task)
{
	struct task_struct *leader = BPF_CORE_READ(task, group_leader);
	struct signal_struct *sig = BPF_CORE_READ(task, signal);
	__u32 tgid = BPF_CORE_READ(task, tgid);
	struct lt_exit *e;
	__u32 status;
	__u64 *v, ticks;

	count(LT_CTR_EXITS);
	v = bpf_map_lookup_elem(&traced, &tgid);
	if (!v)
		return 0;
	/* The delete is the claim: of several threads that get here (signal->live seen at 0
	 * by more than one), only the one whose delete succeeds reports. A stale entry
	 * (another process's start) is removed and not reported. */
	ticks = BPF_CORE_READ(leader, start_boottime) / LT_NS_PER_TICK;
	if (*v != ticks) {
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
	fill_reason(e, tgid, ticks);
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
