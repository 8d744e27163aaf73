// watcher.cc: inotify → one coalesced JS call. A thread drains the inotify queue; JS hears
// "something was opened" through one call at a time, never one call per event.
#include "watcher.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace {

// After a drain, let events gather this long before reading again instead of waking per
// event (each exec opens several files here: binary, ld.so, libc, ...). The first event
// after a quiet spell is still read at once. JS scans at most every 20 ms (SCAN_GAP_MS).
constexpr int kBatchMs = 20;

// IN_OPEN only: exec opens the binary and the interpreter (FS_OPEN_EXEC comes with FS_OPEN),
// ld.so opens each library. IN_ACCESS would add an event per read() of the same files.
constexpr uint32_t kMask = IN_OPEN | IN_ONLYDIR;

[[noreturn]] void ThrowCode(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  throw err;
}

}  // namespace

Napi::Object ExecWatcher::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "ExecWatcher",
                                    {
                                        InstanceMethod("close", &ExecWatcher::Close),
                                        InstanceMethod("stats", &ExecWatcher::Stats),
                                        InstanceAccessor("watched", &ExecWatcher::Watched, nullptr),
                                    });
  exports.Set("ExecWatcher", ctor);
  return exports;
}

// new ExecWatcher(dirs: string[], onActivity: () => void): watches the directories that
// exist and are readable (others are skipped) and starts the thread at once.
ExecWatcher::ExecWatcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ExecWatcher>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsArray() || !info[1].IsFunction())
    ThrowCode(env, "EINVAL", "new ExecWatcher(dirs, onActivity) needs an array and a function");
  Napi::Array dirs = info[0].As<Napi::Array>();

  inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd_ < 0)
    ThrowCode(env, "INOTIFY",
              errno == EMFILE ? "too many inotify instances for this user (fs.inotify.max_user_instances)"
                              : std::string("cannot start inotify: ") + strerror(errno));
  stop_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (stop_fd_ < 0) {
    int err = errno;
    CloseFds();
    ThrowCode(env, "INOTIFY", std::string("cannot create an eventfd: ") + strerror(err));
  }
  // A missing directory or an exhausted watch limit costs coverage, not the source.
  for (uint32_t i = 0; i < dirs.Length(); i++) {
    std::string dir = dirs.Get(i).ToString().Utf8Value();
    if (inotify_add_watch(inotify_fd_, dir.c_str(), kMask) >= 0) watched_++;
  }

  tsfn_ = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "lifetop-execwatch", 1, 1);
  tsfn_.Unref(env);  // never keep the process alive by itself
  napi_add_env_cleanup_hook(env, CleanupHook, this);
  running_ = true;
  thread_ = std::thread(&ExecWatcher::Loop, this);
}

ExecWatcher::~ExecWatcher() { Teardown(); }

void ExecWatcher::Loop() {
  struct pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
  bool busy = false;  // the last pass read events: more are likely, wait for them to gather
  for (;;) {
    fds[0].events = busy ? 0 : POLLIN;
    int n = poll(fds, 2, busy ? kBatchMs : -1);
    if (n < 0 && errno != EINTR) break;
    if (fds[1].revents & POLLIN) break;
    busy = Drain();
    if (busy) Notify();
  }
}

// Reads everything queued; true when there was anything (an overflow counts: it is activity).
bool ExecWatcher::Drain() {
  alignas(struct inotify_event) char buf[16384];
  bool any = false;
  for (;;) {
    ssize_t len = read(inotify_fd_, buf, sizeof(buf));
    if (len <= 0) break;  // EAGAIN: drained
    any = true;
    for (ssize_t at = 0; at < len;) {
      const struct inotify_event* ev = reinterpret_cast<const struct inotify_event*>(buf + at);
      at += sizeof(struct inotify_event) + ev->len;
      events_++;
    }
  }
  return any;
}

// One call in flight at most: the flag is cleared when JS runs, so activity during its
// scan asks for one more call, and a burst in between merges into that one.
void ExecWatcher::Notify() {
  if (in_flight_->exchange(true)) return;
  std::shared_ptr<std::atomic<bool>> flag = in_flight_;
  napi_status st = tsfn_.NonBlockingCall([flag](Napi::Env env, Napi::Function callback) {
    flag->store(false);
    if (env == nullptr) return;  // Node is shutting down
    try {
      callback.Call({});
    } catch (const Napi::Error& e) {
      // Hand a JS exception back to JS. At exit a queued call can still run after JS may no
      // longer: the throw fails too, and node-addon-api would turn that into std::terminate.
      if (!e.IsEmpty()) napi_throw(env, e.Value());
    }
  });
  if (st == napi_ok)
    notifies_++;
  else
    flag->store(false);  // closing: nobody will clear it
}

// Stop and join the thread, release the function, close the fds. Safe to call more than once.
void ExecWatcher::Teardown() {
  if (running_) {
    uint64_t one = 1;
    if (write(stop_fd_, &one, sizeof(one)) < 0) {
      // eventfd write fails only on counter overflow: the thread is already woken
    }
    if (thread_.joinable()) thread_.join();
    tsfn_.Release();
    napi_remove_env_cleanup_hook(Env(), CleanupHook, this);
    running_ = false;
  }
  CloseFds();
}

void ExecWatcher::CloseFds() {
  if (inotify_fd_ >= 0) close(inotify_fd_);  // drops every watch with it
  if (stop_fd_ >= 0) close(stop_fd_);
  inotify_fd_ = stop_fd_ = -1;
}

void ExecWatcher::CleanupHook(void* arg) { static_cast<ExecWatcher*>(arg)->Teardown(); }

Napi::Value ExecWatcher::Close(const Napi::CallbackInfo& info) {
  Teardown();
  return info.Env().Undefined();
}

// watched: how many of the directories given are watched.
Napi::Value ExecWatcher::Watched(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), watched_);
}

// stats(): events read and calls made, to measure the coalescing.
Napi::Value ExecWatcher::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("events", Napi::Number::New(env, static_cast<double>(events_.load())));
  out.Set("notifies", Napi::Number::New(env, static_cast<double>(notifies_.load())));
  return out;
}
