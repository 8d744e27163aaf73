// tracer.cc: JS arguments in, JS values and errors out; loader, consumer and maps do the work.
// Load (constructor), attach → poll (start), detach → drain → release (stop, GC or env teardown).
#include "tracer.h"

#include <linux/types.h>

#include <cstring>
#include <deque>
#include <string>

#include "maps.h"

extern "C" {
#include "lifecycle.h"
}

namespace {

constexpr size_t kMaxQueuedBatches = 16;  // notifications in flight before we merge

const char* kCounterNames[LT_CTR_COUNT] = {
    "forks", "threads", "execs", "exits", "tracedForks", "tracedExecs", "tracedExits",
    "drops", "trackFails",
};

// JS sees `code` to branch on and `log` (libbpf's words) to show under --verbose.
[[noreturn]] void Throw(Napi::Env env, const BpfError& e) {
  Napi::Error err = Napi::Error::New(env, e.message);
  err.Set("code", Napi::String::New(env, e.code));
  err.Set("log", Napi::String::New(env, e.log));
  throw err;
}

[[noreturn]] void ThrowCode(Napi::Env env, const std::string& code, const std::string& message) {
  Throw(env, Fail(code, message));
}

// Runs f; a BpfError becomes the JS error, since N-API only passes Napi::Error through.
template <typename F>
auto Guard(Napi::Env env, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const BpfError& e) {
    Throw(env, e);
  }
}

struct TracerOptions {
  LoadOptions load;
  int poll_ms;
};

TracerOptions ReadOptions(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object opts = info.Length() > 0 && info[0].IsObject() ? info[0].As<Napi::Object>()
                                                              : Napi::Object::New(env);
  TracerOptions out;
  out.load.ring_bytes = opts.Get("ringBytes").IsNumber() ? opts.Get("ringBytes").ToNumber().Uint32Value()
                                                         : LT_DEFAULT_RINGBUF;
  out.poll_ms = opts.Get("pollMs").IsNumber() ? opts.Get("pollMs").ToNumber().Int32Value() : kDefaultPollMs;
  out.load.verbose = opts.Has("verbose") && opts.Get("verbose").ToBoolean().Value();
  out.load.exit_program = opts.Get("exitProgram").IsString() ? opts.Get("exitProgram").ToString().Utf8Value()
                                                             : "auto";
  return out;
}

// Runs on the JS thread: hand every waiting batch over as one Buffer.
Napi::Value TakeAll(Napi::Env env, ReadyQueue& q) {
  std::deque<std::vector<uint8_t>> batches;
  size_t bytes = q.TakeAll(&batches);
  if (bytes == 0) return env.Undefined();
  Napi::Buffer<uint8_t> buf = Napi::Buffer<uint8_t>::New(env, bytes);
  size_t at = 0;
  for (const auto& b : batches) {
    memcpy(buf.Data() + at, b.data(), b.size());
    at += b.size();
  }
  return buf;
}

// Runs on the JS thread for each queued nudge; an earlier nudge may have taken it all.
void Deliver(Napi::Env env, Napi::Function callback, ReadyQueue& q) {
  if (env == nullptr) return;  // Node is shutting down
  try {
    Napi::Value buf = TakeAll(env, q);
    if (!buf.IsUndefined()) callback.Call({buf});
  } catch (const Napi::Error& e) {
    // Hand a JS exception back to JS. At exit a queued call can still run after JS may no
    // longer: the throw fails too, and node-addon-api would turn that into std::terminate.
    if (!e.IsEmpty()) napi_throw(env, e.Value());
  }
}

}  // namespace

Napi::Object Tracer::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "Tracer",
                                    {
                                        InstanceMethod("start", &Tracer::Start),
                                        InstanceMethod("stop", &Tracer::Stop),
                                        InstanceMethod("setFilter", &Tracer::SetFilter),
                                        InstanceMethod("track", &Tracer::Track),
                                        InstanceMethod("setUnitDeny", &Tracer::SetUnitDeny),
                                        InstanceMethod("counters", &Tracer::Counters),
                                        InstanceMethod("stats", &Tracer::Stats),
                                    });
  exports.Set("Tracer", ctor);
  return exports;
}

// new Tracer({ ringBytes?, pollMs?, verbose?, exitProgram? }): loads (but does not attach)
// the programs. exitProgram "live" forces the pre-6.16 exit handler, so tests exercise it here.
Tracer::Tracer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Tracer>(info) {
  TracerOptions opts = ReadOptions(info);
  poll_ms_ = opts.poll_ms;
  programs_ = Guard(info.Env(), [&] { return Programs::Load(opts.load); });
  exit_program_ = programs_->exit_program();
}

Tracer::~Tracer() { Teardown(); }

// start(onBatch): attach the programs and start draining the ring buffer.
Napi::Value Tracer::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (running_) ThrowCode(env, "EBUSY", "tracer already started");
  if (!programs_) ThrowCode(env, "ESTOPPED", "tracer was stopped");
  if (info.Length() < 1 || !info[0].IsFunction())
    ThrowCode(env, "EINVAL", "start(onBatch) needs a function");

  Guard(env, [&] { programs_->Attach(); });
  int err = consumer_.Open(programs_->EventsFd(), poll_ms_);
  if (err) ThrowCode(env, "RINGBUF", std::string("cannot open the ring buffer: ") + strerror(err));
  StartConsumer(env, info[0].As<Napi::Function>());
  return env.Undefined();
}

void Tracer::StartConsumer(Napi::Env env, Napi::Function on_batch) {
  tsfn_ = Napi::ThreadSafeFunction::New(env, on_batch, "lifetop-ringbuf", kMaxQueuedBatches, 1);
  tsfn_.Unref(env);  // never keep the process alive by itself
  napi_add_env_cleanup_hook(env, CleanupHook, this);
  running_ = true;
  consumer_.Start([this] { return Notify(); });
}

// Poll thread: queue a call that hands JS whatever is ready when it runs. The call holds
// the queue, not the Tracer, which may be gone by then. False: the queue is full, JS is behind.
bool Tracer::Notify() {
  std::shared_ptr<ReadyQueue> q = consumer_.ready();
  napi_status st = tsfn_.NonBlockingCall(
      [q](Napi::Env env, Napi::Function callback) { Deliver(env, callback, *q); });
  return st == napi_ok;
}

// Detach first, so nothing is produced after the last drain; then drain what the kernel
// still holds into the ready queue, keep the final counters, and free everything.
// Safe to call more than once.
void Tracer::Teardown() {
  if (programs_) programs_->Detach();
  consumer_.Stop();
  if (running_) {
    tsfn_.Release();
    napi_remove_env_cleanup_hook(Env(), CleanupHook, this);
    running_ = false;
  }
  if (programs_) {
    final_counters_ = ReadCounters(programs_->skel());
    programs_.reset();  // closes programs and maps
  }
}

void Tracer::CleanupHook(void* arg) { static_cast<Tracer*>(arg)->Teardown(); }

// stop(): detach and return the records not yet delivered (Buffer or undefined),
// so nothing the kernel sent before stop is lost and order is kept.
Napi::Value Tracer::Stop(const Napi::CallbackInfo& info) {
  Teardown();
  return TakeAll(info.Env(), *consumer_.ready());
}

// setFilter(matchAll, texts, prefixes, followChildren): live, no reload. The patterns come compiled
// (core/filter compileFilter): what a pattern means is decided once, in TypeScript.
Napi::Value Tracer::SetFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!programs_) ThrowCode(env, "ESTOPPED", "tracer was stopped");
  if (info.Length() < 4 || !info[1].IsArray() || !info[2].IsArray())
    ThrowCode(env, "EINVAL", "setFilter(matchAll, texts, prefixes, followChildren)");
  Napi::Array texts = info[1].As<Napi::Array>();
  Napi::Array prefixes = info[2].As<Napi::Array>();
  std::vector<Pattern> patterns;
  for (uint32_t i = 0; i < texts.Length(); i++) {
    patterns.push_back({texts.Get(i).ToString().Utf8Value(), prefixes.Get(i).ToBoolean().Value()});
  }
  bool match_all = info[0].ToBoolean().Value();
  bool follow_children = info[3].ToBoolean().Value();
  Guard(env, [&] { WriteFilter(programs_->skel(), match_all, patterns, follow_children); });
  return env.Undefined();
}

// track(pids: number[], startsNs: number[]): follow already-running processes, each
// entry keyed to its start time so a reused pid is never adopted; returns failures.
Napi::Value Tracer::Track(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!programs_) ThrowCode(env, "ESTOPPED", "tracer was stopped");
  if (info.Length() < 2 || !info[0].IsArray() || !info[1].IsArray())
    ThrowCode(env, "EINVAL", "track(pids, startsNs)");
  Napi::Array pids = info[0].As<Napi::Array>();
  Napi::Array starts = info[1].As<Napi::Array>();
  if (pids.Length() != starts.Length()) ThrowCode(env, "EINVAL", "track(pids, startsNs): lengths differ");
  uint32_t failed = 0;
  for (uint32_t i = 0; i < pids.Length(); i++) {
    uint32_t pid = pids.Get(i).ToNumber().Uint32Value();
    uint64_t start_ns = static_cast<uint64_t>(starts.Get(i).ToNumber().DoubleValue());
    if (!TrackProcess(programs_->skel(), pid, start_ns)) failed++;
  }
  return Napi::Number::New(env, failed);
}

// setUnitDeny(enabled, v2Ids: number[], v2Values: number[], memcgIds: number[]): the cgroups
// --unit does not match, checked at exec in the kernel (unknown ones pass to user space).
Napi::Value Tracer::SetUnitDeny(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!programs_) ThrowCode(env, "ESTOPPED", "tracer was stopped");
  if (info.Length() < 4 || !info[1].IsArray() || !info[2].IsArray() || !info[3].IsArray())
    ThrowCode(env, "EINVAL", "setUnitDeny(enabled, v2Ids, v2Values, memcgIds)");
  Napi::Array ids = info[1].As<Napi::Array>();
  Napi::Array values = info[2].As<Napi::Array>();
  Napi::Array mem = info[3].As<Napi::Array>();
  if (ids.Length() != values.Length()) ThrowCode(env, "EINVAL", "setUnitDeny: lengths differ");
  std::vector<std::pair<uint64_t, uint8_t>> v2;
  for (uint32_t i = 0; i < ids.Length() && v2.size() < LT_UNIT_DENY_MAX; i++)
    v2.emplace_back(static_cast<uint64_t>(ids.Get(i).ToNumber().DoubleValue()),
                    static_cast<uint8_t>(values.Get(i).ToNumber().Uint32Value()));
  std::vector<uint64_t> memcg;
  for (uint32_t i = 0; i < mem.Length() && memcg.size() < LT_UNIT_DENY_MAX; i++)
    memcg.push_back(static_cast<uint64_t>(mem.Get(i).ToNumber().DoubleValue()));
  bool enabled = info[0].ToBoolean().Value();
  Guard(env, [&] { WriteUnitDeny(programs_->skel(), enabled, v2, memcg); });
  return env.Undefined();
}

// counters(): cumulative kernel counters summed over CPUs (after stop: as at teardown).
Napi::Value Tracer::Counters(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<uint64_t> sums = programs_ ? ReadCounters(programs_->skel()) : final_counters_;
  if (sums.size() != LT_CTR_COUNT) ThrowCode(env, "ESTOPPED", "tracer was stopped");
  Napi::Object out = Napi::Object::New(env);
  for (uint32_t idx = 0; idx < LT_CTR_COUNT; idx++)
    out.Set(kCounterNames[idx], Napi::Number::New(env, static_cast<double>(sums[idx])));
  return out;
}

// stats(): the consumer's own bookkeeping, for benchmarks and --verbose.
Napi::Value Tracer::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ConsumerStats s = consumer_.stats();
  Napi::Object out = Napi::Object::New(env);
  out.Set("batches", Napi::Number::New(env, static_cast<double>(s.batches)));
  out.Set("merges", Napi::Number::New(env, static_cast<double>(s.merges)));
  out.Set("records", Napi::Number::New(env, static_cast<double>(s.records)));
  out.Set("lost", Napi::Number::New(env, static_cast<double>(s.lost)));
  out.Set("pollError", Napi::Number::New(env, s.poll_error));
  out.Set("exitProgram", Napi::String::New(env, exit_program_));
  return out;
}
