// addon.cc: module entry: the Tracer class plus the two facts JS needs to
// decode records: the C layout (abi) and the boot time on the wall clock.
#include <napi.h>

#include <linux/types.h>
#include <poll.h>
#include <time.h>

#include <cstddef>

#include "pidsignal.h"
#include "tracer.h"
#include "watcher.h"

extern "C" {
#include "lifecycle.h"
}

static_assert(sizeof(struct lt_header) == 64, "header must stay 64 bytes, no hidden padding");
static_assert(offsetof(struct lt_exec, memcg_id) == sizeof(struct lt_header), "exec tail: memcg_id first");
static_assert(offsetof(struct lt_exec, filename_len) == sizeof(struct lt_header) + 8, "exec tail has no hidden padding");
static_assert(offsetof(struct lt_exec, filename) % 8 == 0, "exec tail alignment");
static_assert(sizeof(struct lt_exit) == sizeof(struct lt_header) + 72, "exit tail has no hidden padding");
static_assert(offsetof(struct lt_exit, core_dumped) == offsetof(struct lt_exit, sender_comm) + LT_COMM_LEN,
              "exit tail: the byte fields follow the sender's comm");
static_assert(sizeof(struct lt_fork) == sizeof(struct lt_header) + 16, "fork tail has no hidden padding");

namespace {

#define FIELD(obj, type, field) obj.Set(#field, Napi::Number::New(env, offsetof(type, field)))

Napi::Value Abi(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);

  Napi::Object hdr = Napi::Object::New(env);
  hdr.Set("size", Napi::Number::New(env, sizeof(struct lt_header)));
  FIELD(hdr, struct lt_header, ts_ns);
  FIELD(hdr, struct lt_header, start_ns);
  FIELD(hdr, struct lt_header, cgroup_id);
  FIELD(hdr, struct lt_header, type);
  FIELD(hdr, struct lt_header, pid);
  FIELD(hdr, struct lt_header, ppid);
  FIELD(hdr, struct lt_header, tid);
  FIELD(hdr, struct lt_header, uid);
  FIELD(hdr, struct lt_header, comm);
  out.Set("header", hdr);

  Napi::Object exec = Napi::Object::New(env);
  exec.Set("size", Napi::Number::New(env, sizeof(struct lt_exec)));
  FIELD(exec, struct lt_exec, memcg_id);
  FIELD(exec, struct lt_exec, filename_len);
  FIELD(exec, struct lt_exec, args_len);
  FIELD(exec, struct lt_exec, args_truncated);
  FIELD(exec, struct lt_exec, filename);
  FIELD(exec, struct lt_exec, args);
  out.Set("exec", exec);

  Napi::Object exit = Napi::Object::New(env);
  exit.Set("size", Napi::Number::New(env, sizeof(struct lt_exit)));
  FIELD(exit, struct lt_exit, duration_ns);
  FIELD(exit, struct lt_exit, cpu_ns);
  FIELD(exit, struct lt_exit, exit_code);
  FIELD(exit, struct lt_exit, signal);
  FIELD(exit, struct lt_exit, core_dumped);
  FIELD(exit, struct lt_exit, oom_rss_kb);
  FIELD(exit, struct lt_exit, oom_memcg_id);
  FIELD(exit, struct lt_exit, sender_pid);
  FIELD(exit, struct lt_exit, sender_uid);
  FIELD(exit, struct lt_exit, sender_comm);
  FIELD(exit, struct lt_exit, reason);
  out.Set("exit", exit);

  Napi::Object reasons = Napi::Object::New(env);
  reasons.Set("none", Napi::Number::New(env, LT_REASON_NONE));
  reasons.Set("signalUser", Napi::Number::New(env, LT_REASON_SIGNAL_USER));
  reasons.Set("signalKernel", Napi::Number::New(env, LT_REASON_SIGNAL_KERNEL));
  reasons.Set("oom", Napi::Number::New(env, LT_REASON_OOM));
  out.Set("reasons", reasons);

  Napi::Object fork = Napi::Object::New(env);
  fork.Set("size", Napi::Number::New(env, sizeof(struct lt_fork)));
  FIELD(fork, struct lt_fork, child_start_ns);
  FIELD(fork, struct lt_fork, child_pid);
  out.Set("fork", fork);

  Napi::Object types = Napi::Object::New(env);
  types.Set("exec", Napi::Number::New(env, LT_EVENT_EXEC));
  types.Set("exit", Napi::Number::New(env, LT_EVENT_EXIT));
  types.Set("fork", Napi::Number::New(env, LT_EVENT_FORK));
  out.Set("types", types);

  Napi::Object limits = Napi::Object::New(env);
  limits.Set("commLen", Napi::Number::New(env, LT_COMM_LEN));
  limits.Set("filenameMax", Napi::Number::New(env, LT_FILENAME_MAX));
  limits.Set("argsMax", Napi::Number::New(env, LT_ARGS_MAX));
  limits.Set("maxPatterns", Napi::Number::New(env, LT_MAX_PATTERNS));
  limits.Set("tracedMax", Napi::Number::New(env, LT_TRACED_MAX));
  out.Set("limits", limits);
  return out;
}

double ClockNs(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

// The kernel stamps events with CLOCK_BOOTTIME; wall time = boot epoch + that.
Napi::Value BootEpochMs(const Napi::CallbackInfo& info) {
  double real = ClockNs(CLOCK_REALTIME);
  double boot = ClockNs(CLOCK_BOOTTIME);
  return Napi::Number::New(info.Env(), (real - boot) / 1e6);
}

// readerGone(fd): true when fd is a pipe whose reader has gone (| head ended). Writing
// would say EPIPE, but only when there is something to write; poll says it at once.
Napi::Value ReaderGone(const Napi::CallbackInfo& info) {
  struct pollfd p = {info[0].ToNumber().Int32Value(), POLLOUT, 0};
  bool gone = poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP)) != 0;
  return Napi::Boolean::New(info.Env(), gone);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  Tracer::Init(env, exports);
  ExecWatcher::Init(env, exports);
  exports.Set("abi", Napi::Function::New(env, Abi));
  exports.Set("bootEpochMs", Napi::Function::New(env, BootEpochMs));
  exports.Set("readerGone", Napi::Function::New(env, ReaderGone));
  exports.Set("signalProcess", Napi::Function::New(env, SignalProcess));
  return exports;
}

}  // namespace

NODE_API_MODULE(lifetop, Init)
