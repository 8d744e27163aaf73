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
#define LT_DEFAULT_RINGBUF (8u << 20)
/* Wake the consumer early only once this much data waits; otherwise it polls. */
#define LT_WAKEUP_DIVISOR 8
/* task->signal->flags bit: the whole group is exiting (exit_group, fatal signal). */
#define LT_SIGNAL_GROUP_EXIT 0x00000004

enum lt_event_type {
	LT_EVENT_EXEC = 1,
	LT_EVENT_EXIT = 2,
	LT_EVENT_FORK = 3,
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
	__s32 exit_code;          /* as exit(2) got it */
	__u32 signal;             /* terminating signal, 0 if none */
	__u8 core_dumped;
	__u8 _pad1[7];
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
	__u32 _pad0;
};

#endif /* LIFETOP_LIFECYCLE_H */
