// tracer.cc: open → configure → load (constructor), attach → poll (start),
// detach → join → release (stop, GC, or env teardown, whichever comes first).
#include "tracer.h"

#include <bpf/bpf.h>
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

constexpr size_t kMaxQueuedBatches = 16;  // notifications in flight before we merge
constexpr size_t kMaxReadyBytes = 256u << 20;  // JS this far behind: drop (and count) rather than grow
constexpr int kDefaultPollMs = 50;        // idle latency bound: a lone event shows within this

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

[[noreturn]] void ThrowCode(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  err.Set("log", Napi::String::New(env, TakeLog()));
  throw err;
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

[[noreturn]] void ThrowPermission(Napi::Env env) {
  ThrowCode(env, "EPERM_BPF",
            "lifetop needs root (or CAP_BPF and CAP_PERFMON) to load its eBPF programs; "
            "run it with sudo, or use --source proc");
}

// sched_process_exit gained a group_dead argument in 6.16; pick the program that fits.
bool ExitHasGroupDead() {
  struct btf* vmlinux = btf__load_vmlinux_btf();
  if (!vmlinux) return false;
  bool has = false;
  int id = btf__find_by_name_kind(vmlinux, "btf_trace_sched_process_exit", BTF_KIND_TYPEDEF);
  if (id > 0) {
    const struct btf_type* t = btf__type_by_id(vmlinux, id);     // typedef
    t = t ? btf__type_by_id(vmlinux, t->type) : nullptr;          // pointer
    t = t ? btf__type_by_id(vmlinux, t->type) : nullptr;          // func proto
    has = t && btf_is_func_proto(t) && btf_vlen(t) >= 3;          // (void*, task, group_dead)
  }
  btf__free(vmlinux);
  return has;
}

int OnRecord(void* ctx, void* data, size_t size) {
  static_cast<Tracer*>(ctx)->Append(data, size);
  return 0;
}

// Runs on the JS thread: hand every waiting batch over as one Buffer.
Napi::Value TakeAll(Napi::Env env, ReadyQueue& q) {
  std::deque<std::vector<uint8_t>> batches;
  size_t bytes;
  {
    std::lock_guard<std::mutex> lock(q.mu);
    batches.swap(q.batches);
    bytes = q.bytes;
    q.bytes = 0;
  }
  if (bytes == 0) return env.Undefined();
  Napi::Buffer<uint8_t> buf = Napi::Buffer<uint8_t>::New(env, bytes);
  size_t at = 0;
  for (const auto& b : batches) {
    memcpy(buf.Data() + at, b.data(), b.size());
    at += b.size();
  }
  return buf;
}

const char* kCounterNames[LT_CTR_COUNT] = {
    "forks", "threads", "execs", "exits", "tracedForks", "tracedExecs", "tracedExits",
    "drops", "trackFails",
};

}  // namespace

Napi::Object Tracer::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "Tracer",
                                    {
                                        InstanceMethod("start", &Tracer::Start),
                                        InstanceMethod("stop", &Tracer::Stop),
                                        InstanceMethod("setFilter", &Tracer::SetFilter),
                                        InstanceMethod("track", &Tracer::Track),
                                        InstanceMethod("counters", &Tracer::Counters),
                                        InstanceMethod("stats", &Tracer::Stats),
                                    });
  exports.Set("Tracer", ctor);
  return exports;
}

// new Tracer({ ringBytes?, pollMs?, verbose?, exitProgram? }): loads (but does not attach)
// the programs. exitProgram "live" forces the pre-6.16 exit handler, so tests exercise it here.
Tracer::Tracer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Tracer>(info) {
  Napi::Env env = info.Env();
  Napi::Object opts = info.Length() > 0 && info[0].IsObject() ? info[0].As<Napi::Object>()
                                                              : Napi::Object::New(env);
  ring_bytes_ = opts.Get("ringBytes").IsNumber() ? opts.Get("ringBytes").ToNumber().Uint32Value()
                                                 : LT_DEFAULT_RINGBUF;
  poll_ms_ = opts.Get("pollMs").IsNumber() ? opts.Get("pollMs").ToNumber().Int32Value() : kDefaultPollMs;
  verbose_ = opts.Has("verbose") && opts.Get("verbose").ToBoolean().Value();
  std::string exit_program = opts.Get("exitProgram").IsString()
                                 ? opts.Get("exitProgram").ToString().Utf8Value() : "auto";
  if (ring_bytes_ < 4096 || (ring_bytes_ & (ring_bytes_ - 1)) != 0)
    ThrowCode(env, "EINVAL", "ring buffer size must be a power of two of at least 4096 bytes");
  if (exit_program != "auto" && exit_program != "live" && exit_program != "group_dead")
    ThrowCode(env, "EINVAL", "exit program must be auto, live or group_dead");
  Load(env, exit_program);
}

Tracer::~Tracer() { Teardown(); }

void Tracer::Load(Napi::Env env, const std::string& exit_program) {
  g_log_debug = verbose_;
  libbpf_set_print(CaptureLibbpf);
  if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
    ThrowCode(env, "NO_BTF",
              "this kernel has no BTF (/sys/kernel/btf/vmlinux is missing); lifetop needs a kernel "
              "built with CONFIG_DEBUG_INFO_BTF=y, or use --source proc");
  if (!HasBpfPrivileges()) ThrowPermission(env);
  int probe = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, nullptr);
  if (IsPermissionError(probe)) ThrowPermission(env);
  if (probe == 0)
    ThrowCode(env, "NO_RINGBUF",
              "this kernel has no BPF ring buffer (Linux 5.8 or newer is needed); use --source proc");

  skel_ = lifecycle_bpf__open();
  if (!skel_) ThrowCode(env, "LOAD", std::string("cannot open the eBPF object: ") + strerror(errno));
  bpf_map__set_max_entries(skel_->maps.events, ring_bytes_);
  bool group_dead = exit_program == "auto" ? ExitHasGroupDead() : exit_program == "group_dead";
  exit_program_ = group_dead ? "group_dead" : "live";
  bpf_program__set_autoload(skel_->progs.handle_exit_group_dead, group_dead);
  bpf_program__set_autoload(skel_->progs.handle_exit_live, !group_dead);

  // The verifier gives up with EAGAIN when a signal is pending (a profiler's
  // SIGPROF, a busy parent's SIGCHLD): hold those on this thread while it runs.
  // Not the ones that end lifetop: held here, one could reach Node's handler late
  // or never; libbpf retries a load that one of them interrupts.
  sigset_t all, old;
  sigfillset(&all);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigdelset(&all, sig);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  int err = lifecycle_bpf__load(skel_);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (err) {
    lifecycle_bpf__destroy(skel_);
    skel_ = nullptr;
    if (IsPermissionError(err)) ThrowPermission(env);
    ThrowCode(env, "VERIFIER",
              std::string("the kernel rejected lifetop's eBPF programs (") + strerror(-err) +
                  "); run with --verbose to see the verifier log");
  }
  TakeLog();
}

// start(onBatch): attach the programs and start draining the ring buffer.
Napi::Value Tracer::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (running_) ThrowCode(env, "EBUSY", "tracer already started");
  if (!skel_) ThrowCode(env, "ESTOPPED", "tracer was stopped");
  if (info.Length() < 1 || !info[0].IsFunction())
    ThrowCode(env, "EINVAL", "start(onBatch) needs a function");

  int err = lifecycle_bpf__attach(skel_);
  if (err) ThrowCode(env, "ATTACH", std::string("cannot attach tracepoints: ") + strerror(-err));
  rb_ = ring_buffer__new(bpf_map__fd(skel_->maps.events), OnRecord, this, nullptr);
  if (!rb_) ThrowCode(env, "RINGBUF", std::string("cannot open the ring buffer: ") + strerror(errno));

  tsfn_ = Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "lifetop-ringbuf",
                                        kMaxQueuedBatches, 1);
  tsfn_.Unref(env);  // never keep the process alive by itself
  napi_add_env_cleanup_hook(env, CleanupHook, this);
  stopping_ = false;
  running_ = true;
  thread_ = std::thread(&Tracer::PollLoop, this);
  return env.Undefined();
}

void Tracer::Append(const void* data, size_t size) {
  uint32_t len = static_cast<uint32_t>(size);
  size_t at = pending_.size();
  size_t padded = (sizeof(len) + size + 7) & ~size_t(7);
  pending_.resize(at + padded);
  memcpy(pending_.data() + at, &len, sizeof(len));
  memcpy(pending_.data() + at + sizeof(len), data, size);
  pending_records_++;
  records_++;
}

void Tracer::PollLoop() {
  while (!stopping_.load()) {
    // Producers wake us only when the buffer fills; otherwise the timeout paces us.
    int n = ring_buffer__poll(rb_, poll_ms_);
    if (n < 0 && n != -EINTR) {
      poll_error_ = -n;  // reported through stats(): a frozen table must not look quiet
      break;
    }
    ring_buffer__consume(rb_);
    Flush();
  }
}

// Move what was collected to the ready queue and nudge JS once per batch.
// The call carries no data: if JS is behind, the next nudge takes both.
void Tracer::Flush() {
  if (pending_.empty()) return;
  {
    std::lock_guard<std::mutex> lock(ready_->mu);
    if (ready_->bytes + pending_.size() > kMaxReadyBytes) {
      lost_ += pending_records_;
    } else {
      ready_->bytes += pending_.size();
      ready_->batches.emplace_back(std::move(pending_));
    }
  }
  pending_ = std::vector<uint8_t>();
  pending_records_ = 0;
  if (stopping_.load()) return;  // stop() hands the rest over itself
  std::shared_ptr<ReadyQueue> q = ready_;
  napi_status st = tsfn_.NonBlockingCall([q](Napi::Env env, Napi::Function callback) {
    if (env == nullptr) return;  // Node is shutting down
    try {
      Napi::Value buf = TakeAll(env, *q);
      if (!buf.IsUndefined()) callback.Call({buf});
    } catch (const Napi::Error& e) {
      // Hand a JS exception back to JS. At exit a queued call can still run after JS may no
      // longer: the throw fails too, and node-addon-api would turn that into std::terminate.
      if (!e.IsEmpty()) napi_throw(env, e.Value());
    }
  });
  if (st == napi_ok)
    batches_++;
  else
    merges_++;
}

Napi::Value Tracer::TakeReady(Napi::Env env) { return TakeAll(env, *ready_); }

// Detach first, so nothing is produced after the last drain; then drain what the kernel
// still holds into the ready queue, keep the final counters, and free everything.
// Safe to call more than once.
void Tracer::Teardown() {
  if (skel_) lifecycle_bpf__detach(skel_);
  if (running_) {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
    ring_buffer__consume(rb_);
    Flush();
    tsfn_.Release();
    napi_remove_env_cleanup_hook(Env(), CleanupHook, this);
    running_ = false;
  }
  if (rb_) {
    ring_buffer__free(rb_);
    rb_ = nullptr;
  }
  if (skel_) {
    final_counters_.assign(LT_CTR_COUNT, 0);
    ReadCounters(final_counters_.data());
    lifecycle_bpf__destroy(skel_);  // closes programs and maps
    skel_ = nullptr;
  }
}

void Tracer::CleanupHook(void* arg) { static_cast<Tracer*>(arg)->Teardown(); }

// stop(): detach and return the records not yet delivered (Buffer or undefined),
// so nothing the kernel sent before stop is lost and order is kept.
Napi::Value Tracer::Stop(const Napi::CallbackInfo& info) {
  Teardown();
  return TakeReady(info.Env());
}

// setFilter(patterns: string[], followChildren: boolean): live, no reload.
Napi::Value Tracer::SetFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!skel_) ThrowCode(env, "ESTOPPED", "tracer was stopped");
  if (info.Length() < 2 || !info[0].IsArray())
    ThrowCode(env, "EINVAL", "setFilter(patterns, followChildren)");
  Napi::Array list = info[0].As<Napi::Array>();
  if (list.Length() > LT_MAX_PATTERNS)
    ThrowCode(env, "EINVAL", "at most " + std::to_string(LT_MAX_PATTERNS) + " patterns");

  struct lt_config cfg = {};
  cfg.follow_children = info[1].ToBoolean().Value() ? 1 : 0;
  for (uint32_t i = 0; i < list.Length(); i++) {
    std::string text = list.Get(i).ToString().Utf8Value();
    struct lt_pattern pat = {};
    if (text == "*") {
      cfg.match_all = 1;
      continue;
    }
    if (!text.empty() && text.back() == '*') {
      pat.prefix = 1;
      text.pop_back();
    }
    if (text.empty() || text.size() >= LT_COMM_LEN)
      ThrowCode(env, "EINVAL", "pattern '" + text + "' must be 1 to 15 characters");
    memcpy(pat.text, text.data(), text.size());
    pat.len = static_cast<uint32_t>(text.size());
    uint32_t key = cfg.npatterns++;
    bpf_map__update_elem(skel_->maps.patterns, &key, sizeof(key), &pat, sizeof(pat), BPF_ANY);
  }
  uint32_t zero = 0;
  bpf_map__update_elem(skel_->maps.filter_config, &zero, sizeof(zero), &cfg, sizeof(cfg), BPF_ANY);

  // Forget what the old filter traced; the caller re-seeds what still matches.
  int fd = bpf_map__fd(skel_->maps.traced);
  uint32_t key, next;
  std::vector<uint32_t> keys;
  for (int r = bpf_map_get_next_key(fd, nullptr, &next); r == 0;
       r = bpf_map_get_next_key(fd, &key, &next)) {
    keys.push_back(next);
    key = next;
  }
  for (uint32_t k : keys) bpf_map_delete_elem(fd, &k);
  return env.Undefined();
}

// track(pids: number[], startsNs: number[]): follow already-running processes, each
// entry keyed to its start time so a reused pid is never adopted; returns failures.
Napi::Value Tracer::Track(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!skel_) ThrowCode(env, "ESTOPPED", "tracer was stopped");
  if (info.Length() < 2 || !info[0].IsArray() || !info[1].IsArray())
    ThrowCode(env, "EINVAL", "track(pids, startsNs)");
  Napi::Array pids = info[0].As<Napi::Array>();
  Napi::Array starts = info[1].As<Napi::Array>();
  if (pids.Length() != starts.Length()) ThrowCode(env, "EINVAL", "track(pids, startsNs): lengths differ");
  uint32_t failed = 0;
  for (uint32_t i = 0; i < pids.Length(); i++) {
    uint32_t pid = pids.Get(i).ToNumber().Uint32Value();
    uint64_t ticks = static_cast<uint64_t>(starts.Get(i).ToNumber().DoubleValue()) / LT_NS_PER_TICK;
    if (bpf_map__update_elem(skel_->maps.traced, &pid, sizeof(pid), &ticks, sizeof(ticks), BPF_ANY))
      failed++;
  }
  return Napi::Number::New(env, failed);
}

void Tracer::ReadCounters(uint64_t out[]) {
  int ncpu = libbpf_num_possible_cpus();
  std::vector<uint64_t> values(ncpu > 0 ? ncpu : 1);
  for (uint32_t idx = 0; idx < LT_CTR_COUNT; idx++) {
    uint64_t sum = 0;
    if (bpf_map__lookup_elem(skel_->maps.counters, &idx, sizeof(idx), values.data(),
                             values.size() * sizeof(uint64_t), 0) == 0)
      for (uint64_t v : values) sum += v;
    out[idx] = sum;
  }
}

// counters(): cumulative kernel counters summed over CPUs (after stop: as at teardown).
Napi::Value Tracer::Counters(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint64_t sums[LT_CTR_COUNT] = {};
  if (skel_)
    ReadCounters(sums);
  else if (final_counters_.size() == LT_CTR_COUNT)
    std::copy(final_counters_.begin(), final_counters_.end(), sums);
  else
    ThrowCode(env, "ESTOPPED", "tracer was stopped");
  Napi::Object out = Napi::Object::New(env);
  for (uint32_t idx = 0; idx < LT_CTR_COUNT; idx++)
    out.Set(kCounterNames[idx], Napi::Number::New(env, static_cast<double>(sums[idx])));
  return out;
}

// stats(): the consumer's own bookkeeping, for benchmarks and --verbose.
Napi::Value Tracer::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("batches", Napi::Number::New(env, static_cast<double>(batches_.load())));
  out.Set("merges", Napi::Number::New(env, static_cast<double>(merges_.load())));
  out.Set("records", Napi::Number::New(env, static_cast<double>(records_.load())));
  out.Set("lost", Napi::Number::New(env, static_cast<double>(lost_.load())));
  out.Set("pollError", Napi::Number::New(env, poll_error_.load()));
  out.Set("exitProgram", Napi::String::New(env, exit_program_));
  return out;
}
