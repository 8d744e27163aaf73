// watcher.h: ExecWatcher, inotify IN_OPEN watches on the directories programs and their
// loader are read from, so the /proc source scans when something starts, not only on a timer.
#pragma once

#include <napi.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>

class ExecWatcher : public Napi::ObjectWrap<ExecWatcher> {
 public:
  static Napi::Object Init(Napi::Env env, Napi::Object exports);
  explicit ExecWatcher(const Napi::CallbackInfo& info);
  ~ExecWatcher() override;

 private:
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Watched(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);

  void Loop();
  bool Drain();
  void Notify();
  void Teardown();
  void CloseFds();
  static void CleanupHook(void* arg);

  int inotify_fd_ = -1;
  int stop_fd_ = -1;  // eventfd: close() wakes the thread out of poll()
  uint32_t watched_ = 0;
  bool running_ = false;
  std::thread thread_;
  Napi::ThreadSafeFunction tsfn_;
  // Set while a notification is queued or running. Shared with the queued call, so a call
  // that runs after the watcher is gone touches only this.
  std::shared_ptr<std::atomic<bool>> in_flight_ = std::make_shared<std::atomic<bool>>(false);
  std::atomic<uint64_t> events_{0};    // inotify events read
  std::atomic<uint64_t> notifies_{0};  // calls made into JS
};
