// loader.cc: check → probe → open → configure → load, bootstrap order; each failure is one
// BpfError with a line the user can act on. Attach and detach live here too.
#include "loader.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>

extern "C" {
#include "lifecycle.h"
#include "lifecycle.skel.h"
}

namespace {

// libbpf reports through a global print callback; keep what it says so a
// failed load can show the verifier log under --verbose.
std::mutex g_log_mutex;
std::string g_log;
bool g_log_debug = false;

int CaptureLibbpf(enum libbpf_print_level level, const char* fmt, va_list args) {
  if (level == LIBBPF_DEBUG && !g_log_debug) return 0;
  char buf[4096];
  int n = vsnprintf(buf, sizeof(buf), fmt, args);
  std::lock_guard<std::mutex> lock(g_log_mutex);
  if (g_log.size() < (1u << 20)) g_log.append(buf, n > 0 ? std::min<size_t>(n, sizeof(buf) - 1) : 0);
  return n;
}

std::string TakeLog() {
  std::lock_guard<std::mutex> lock(g_log_mutex);
  std::string out;
  out.swap(g_log);
  return out;
}

// Effective capabilities from /proc/self/status: root, or CAP_BPF + CAP_PERFMON
// (or CAP_SYS_ADMIN, which implies both on older kernels).
bool HasBpfPrivileges() {
  if (geteuid() == 0) return true;
  FILE* f = fopen("/proc/self/status", "r");
  if (!f) return false;
  char line[256];
  unsigned long long eff = 0;
  while (fgets(line, sizeof(line), f))
    if (sscanf(line, "CapEff: %llx", &eff) == 1) break;
  fclose(f);
  const unsigned long long sys_admin = 1ull << 21, perfmon = 1ull << 38, bpf = 1ull << 39;
  return (eff & sys_admin) || ((eff & perfmon) && (eff & bpf));
}

bool IsPermissionError(int err) { return err == -EPERM || err == -EACCES; }

BpfError PermissionError() {
  return Fail("EPERM_BPF",
              "needs root (or CAP_BPF and CAP_PERFMON) to load its eBPF programs; "
              "run it with sudo, or use --source proc");
}

void CheckOptions(const LoadOptions& opts) {
  uint32_t ring = opts.ring_bytes;
  if (ring < 4096 || (ring & (ring - 1)) != 0)
    throw Fail("EINVAL", "ring buffer size must be a power of two of at least 4096 bytes");
  const std::string& exit = opts.exit_program;
  if (exit != "auto" && exit != "live" && exit != "group_dead")
    throw Fail("EINVAL", "exit program must be auto, live or group_dead");
}

// Cheapest, most actionable answer first: no BTF, then no rights, then too old a kernel.
void ProbeKernel() {
  if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
    throw Fail("NO_BTF",
               "this kernel has no BTF (/sys/kernel/btf/vmlinux is missing); lifetop needs a kernel "
               "built with CONFIG_DEBUG_INFO_BTF=y, or use --source proc");
  if (!HasBpfPrivileges()) throw PermissionError();
  int probe = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, nullptr);
  if (IsPermissionError(probe)) throw PermissionError();
  if (probe == 0)
    throw Fail("NO_RINGBUF",
               "this kernel has no BPF ring buffer (Linux 5.8 or newer is needed); use --source proc");
}

// How many arguments (the leading void* included) tracepoint `name` passes to a tp_btf
// program, from the kernel's btf_trace_<name> typedef; 0 when the kernel has no such tracepoint.
int TracepointArgs(const struct btf* vmlinux, const char* name) {
  if (!vmlinux) return 0;
  int id = btf__find_by_name_kind(vmlinux, (std::string("btf_trace_") + name).c_str(), BTF_KIND_TYPEDEF);
  if (id <= 0) return 0;
  const struct btf_type* t = btf__type_by_id(vmlinux, id);  // typedef
  t = t ? btf__type_by_id(vmlinux, t->type) : nullptr;       // pointer
  t = t ? btf__type_by_id(vmlinux, t->type) : nullptr;       // func proto
  return t && btf_is_func_proto(t) ? btf_vlen(t) : 0;
}

// Which programs this kernel can take. sched_process_exit gained group_dead in 6.16;
// mark_victim passes the task (not just its pid) since 6.8: without it, OOM kills show as
// the kernel's SIGKILL. signal_generate has had its arguments since 3.x.
struct KernelFit {
  bool group_dead = false;
  bool signal_generate = false;
  bool mark_victim = false;
};

KernelFit AskKernel() {
  struct btf* vmlinux = btf__load_vmlinux_btf();
  KernelFit fit;
  fit.group_dead = TracepointArgs(vmlinux, "sched_process_exit") >= 3;  // (void*, task, group_dead)
  fit.signal_generate = TracepointArgs(vmlinux, "signal_generate") >= 6;  // (void*, sig, info, task, group, result)
  fit.mark_victim = TracepointArgs(vmlinux, "mark_victim") >= 3;        // (void*, task, uid)
  btf__free(vmlinux);
  return fit;
}

// "auto" asks the kernel; a forced choice lets tests exercise the older handler on a new kernel.
bool WantGroupDead(const std::string& exit_program, const KernelFit& fit) {
  return exit_program == "auto" ? fit.group_dead : exit_program == "group_dead";
}

// The verifier gives up with EAGAIN when a signal is pending (a profiler's
// SIGPROF, a busy parent's SIGCHLD): hold those on this thread while it runs.
// Not the ones that end lifetop: held here, one could reach Node's handler late
// or never; libbpf retries a load that one of them interrupts.
int LoadWithSignalsHeld(lifecycle_bpf* skel) {
  sigset_t all, old;
  sigfillset(&all);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigdelset(&all, sig);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  int err = lifecycle_bpf__load(skel);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return err;
}

}  // namespace

BpfError Fail(const std::string& code, const std::string& message) {
  return BpfError{code, message, TakeLog()};
}

std::unique_ptr<Programs> Programs::Load(const LoadOptions& opts) {
  CheckOptions(opts);
  g_log_debug = opts.verbose;
  libbpf_set_print(CaptureLibbpf);
  ProbeKernel();

  // CO-RE against vmlinux's BTF only. Without a path, libbpf 1.1 looks through the modules' BTF for
  // a type vmlinux lacks (the pre-6.2 flavour of mm_rss_stat), and listing them takes CAP_SYS_ADMIN:
  // a service given only CAP_BPF and CAP_PERFMON would fail to load. Nothing here is a module's type.
  LIBBPF_OPTS(bpf_object_open_opts, open_opts, .btf_custom_path = "/sys/kernel/btf/vmlinux");
  lifecycle_bpf* skel = lifecycle_bpf__open_opts(&open_opts);
  if (!skel) throw Fail("LOAD", std::string("cannot open the eBPF object: ") + strerror(errno));
  bpf_map__set_max_entries(skel->maps.events, opts.ring_bytes);
  KernelFit fit = AskKernel();
  bool group_dead = WantGroupDead(opts.exit_program, fit);
  bpf_program__set_autoload(skel->progs.handle_exit_group_dead, group_dead);
  bpf_program__set_autoload(skel->progs.handle_exit_live, !group_dead);
  bpf_program__set_autoload(skel->progs.handle_signal, fit.signal_generate);
  bpf_program__set_autoload(skel->progs.handle_oom, fit.mark_victim);
  long page = sysconf(_SC_PAGESIZE);
  skel->rodata->page_kb = page > 0 ? static_cast<uint32_t>(page / 1024) : 4;

  int err = LoadWithSignalsHeld(skel);
  if (err) {
    lifecycle_bpf__destroy(skel);
    if (IsPermissionError(err)) throw PermissionError();
    throw Fail("VERIFIER", std::string("the kernel rejected lifetop's eBPF programs (") + strerror(-err) +
                               "); run with --verbose to see the verifier log");
  }
  TakeLog();  // a successful load's chatter must not end up in a later, unrelated error
  return std::unique_ptr<Programs>(new Programs(skel, group_dead ? "group_dead" : "live"));
}

Programs::~Programs() { lifecycle_bpf__destroy(skel_); }  // closes programs, maps and links

void Programs::Attach() {
  int err = lifecycle_bpf__attach(skel_);
  if (err) throw Fail("ATTACH", std::string("cannot attach tracepoints: ") + strerror(-err));
}

void Programs::Detach() { lifecycle_bpf__detach(skel_); }

int Programs::EventsFd() const { return bpf_map__fd(skel_->maps.events); }
