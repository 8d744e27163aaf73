/* SPDX-License-Identifier: GPL-2.0 */
/* lifecycle.h: the event ABI shared by bpf/lifecycle.bpf.c and the native addon.
 * Single source of truth for the record layout; the addon exports sizeof/offsetof
 * and a test checks the TypeScript decoder against them. Widest fields first,
 * explicit padding, no hidden holes. */
#ifndef LIFETOP_LIFECYCLE_H
#define LIFETOP_LIFECYCLE_H

#define LT_COMM_LEN 16
#define LT_FILENAME_MAX 256
#define LT_ARGS_MAX 4096          /* power of two: the BPF side masks lengths with it */
#define LT_MAX_PATTERNS 16
#define LT_TRACED_MAX 65536       /* traced tgids the kernel remembers at once */
/* start_boottime is kept in clock ticks (USER_HZ = 100): what /proc/PID/stat field 22
 * shows, so entries made from /proc by userspace compare equal to the kernel's. */
#define LT_NS_PER_TICK 10000000ULL
#define LT_DEFAULT_RINGBUF (2u << 20)
/* Wake the consumer early only once this much data waits; otherwise it polls. */
#define LT_WAKEUP_DIVISOR 8
/* task->signal->flags bit: the whole group is exiting (exit_group, fatal signal). */
#define LT_SIGNAL_GROUP_EXIT 0x00000004
/* Fatal signals and OOM marks of traced processes waiting for their exit (LRU: an entry
 * whose process stopped being traced is evicted, never blocks a new one). */
#define LT_PENDING_MAX 4096
/* Cgroups whose unit --unit does not match (per hierarchy): execs in them are not traced. */
#define LT_UNIT_DENY_MAX 16384
/* unit_v2 values: this v2 cgroup's unit does not match / decide by the v1 memory cgroup (v2 root). */
#define LT_UNIT_DENY 1
#define LT_UNIT_BY_MEMCG 2
/* The kernel's SEND_SIG_PRIV: a siginfo "pointer" of 1 means sent by the kernel itself. */
#define LT_SEND_SIG_PRIV 1UL
#define LT_SIGKILL 9
#define LT_NSIG 64                /* power of two: the BPF side masks signal numbers with it */
#define LT_SIGBIT(sig) (1ULL << ((sig) - 1))
/* Signals whose default action does not end the process (x86, arm64 numbering): ignored
 * (SIGCHLD, SIGURG, SIGWINCH, SIGCONT) or stopping (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU).
 * Every other signal, real-time ones included, kills by default. */
#define LT_SIG_NOT_FATAL (LT_SIGBIT(17) | LT_SIGBIT(18) | LT_SIGBIT(19) | LT_SIGBIT(20) | \
			  LT_SIGBIT(21) | LT_SIGBIT(22) | LT_SIGBIT(23) | LT_SIGBIT(28))

enum lt_event_type {
	LT_EVENT_EXEC = 1,
	LT_EVENT_EXIT = 2,
	LT_EVENT_FORK = 3,
};

/* Why a process ended, as far as the kernel told (the exit status says the rest). */
enum lt_exit_reason {
	LT_REASON_NONE = 0,       /* no fatal signal seen: exit(2), or a signal sent before tracing */
	LT_REASON_SIGNAL_USER,    /* kill(2), tgkill(2), sigqueue(3): sender_* name the process */
	LT_REASON_SIGNAL_KERNEL,  /* the kernel's own: a fault (SIGSEGV...), a timer, a hangup */
	LT_REASON_OOM,            /* the OOM killer's SIGKILL; oom_rss_kb is the RSS it saw */
};

enum lt_counter {
	LT_CTR_FORKS = 0,         /* process forks (child is a new thread group) */
	LT_CTR_THREADS,           /* thread clones */
	LT_CTR_EXECS,
	LT_CTR_EXITS,             /* process exits (last thread of the group) */
	LT_CTR_TRACED_FORKS,
	LT_CTR_TRACED_EXECS,
	LT_CTR_TRACED_EXITS,
	LT_CTR_DROPS,             /* ring buffer full: event lost */
	LT_CTR_TRACK_FAILS,       /* traced map full: process not followed */
	LT_CTR_COUNT,
};

/* Fixed header of every record. */
struct lt_header {
	__u64 ts_ns;              /* bpf_ktime_get_boot_ns() at the event */
	__u64 start_ns;           /* group leader's start_boottime: /proc/PID/stat field 22 */
	__u64 cgroup_id;
	__u32 type;               /* enum lt_event_type */
	__u32 pid;                /* tgid; for fork, the parent */
	__u32 ppid;
	__u32 tid;
	__u32 uid;
	__u32 _pad0;
	char comm[LT_COMM_LEN];
};

struct lt_exec {
	struct lt_header hdr;
	__u64 memcg_id;           /* v1 memory controller's cgroup kernfs id (its directory's inode
				   * number) at exec; 0 when there is no v1 memory hierarchy.
				   * hdr.cgroup_id is the v2 one (root on hybrid v1 systems). */
	__u16 filename_len;       /* bytes in filename, without the NUL */
	__u16 args_len;           /* bytes in args: NUL-separated argv */
	__u8 args_truncated;      /* argv was longer than LT_ARGS_MAX */
	__u8 _pad1[3];
	char filename[LT_FILENAME_MAX];
	char args[LT_ARGS_MAX];   /* only args_len bytes are sent */
};

struct lt_exit {
	struct lt_header hdr;
	__u64 duration_ns;        /* exit time - start_ns */
	__u64 cpu_ns;             /* user+system of the whole group */
	__u64 oom_rss_kb;         /* LT_REASON_OOM: file + anon + shmem RSS when it was chosen */
	__u64 oom_memcg_id;       /* LT_REASON_OOM: its memory cgroup then (kernfs id; v1 memory
				   * controller's, or the v2 one on v2-only systems); else 0 */
	__s32 exit_code;          /* as exit(2) got it */
	__u32 signal;             /* terminating signal, 0 if none */
	__u32 sender_pid;         /* LT_REASON_SIGNAL_USER: the sender's tgid, else 0 */
	__u32 sender_uid;         /* its real uid */
	char sender_comm[LT_COMM_LEN]; /* its process name (leader's comm); untrusted */
	__u8 core_dumped;
	__u8 reason;              /* enum lt_exit_reason */
	__u8 _pad1[6];
};

struct lt_fork {
	struct lt_header hdr;
	__u64 child_start_ns;
	__u32 child_pid;
	__u32 _pad1;
};

struct lt_pattern {
	char text[LT_COMM_LEN];   /* without the trailing '*' */
	__u32 len;
	__u32 prefix;             /* 1: "text*", 0: exact */
};

struct lt_config {
	__u32 npatterns;
	__u32 match_all;          /* "*" */
	__u32 follow_children;
	__u32 unit_filter;        /* 1: consult unit_v2/unit_memcg at exec (--unit) */
};

#endif /* LIFETOP_LIFECYCLE_H */
