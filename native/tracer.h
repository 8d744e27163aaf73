// tracer.h: the one object that owns the BPF skeleton, its links, the ring
// buffer, the poll thread and the thread-safe function that hands batches to JS.
#pragma once

#include <napi.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

struct lifecycle_bpf;
struct ring_buffer;

// Batches waiting for JS. Shared with queued thread-safe calls, so a call that
// arrives after the Tracer is gone touches only this.
struct ReadyQueue {
  std::mutex mu;
  std::deque<std::vector<uint8_t>> batches;
  size_t bytes = 0;
};

class Tracer : public Napi::ObjectWrap<Tracer> {
 public:
  static Napi::Object Init(Napi::Env env, Napi::Object exports);
  explicit Tracer(const Napi::CallbackInfo& info);
  ~Tracer() override;

  // Called on the poll thread for each ring buffer record.
  void Append(const void* data, size_t size);

 private:
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Stop(const Napi::CallbackInfo& info);
  Napi::Value SetFilter(const Napi::CallbackInfo& info);
  Napi::Value Track(const Napi::CallbackInfo& info);
  Napi::Value Counters(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);

  void Load(Napi::Env env, const std::string& exit_program);
  void ReadCounters(uint64_t out[]);
  void PollLoop();
  void Flush();
  Napi::Value TakeReady(Napi::Env env);
  void Teardown();
  static void CleanupHook(void* arg);

  uint32_t ring_bytes_;
  int poll_ms_;
  bool verbose_;
  lifecycle_bpf* skel_ = nullptr;
  ring_buffer* rb_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  bool running_ = false;
  Napi::ThreadSafeFunction tsfn_;
  // Records collected by the poll thread since the last hand-off: each one is
  // a u32 length followed by the record, padded to 8 bytes.
  std::vector<uint8_t> pending_;
  uint64_t pending_records_ = 0;
  std::shared_ptr<ReadyQueue> ready_ = std::make_shared<ReadyQueue>();
  std::atomic<uint64_t> batches_{0};
  std::atomic<uint64_t> lost_{0};     // records dropped because JS fell too far behind
  std::atomic<uint64_t> merges_{0};   // hand-offs deferred because JS was behind
  std::atomic<uint64_t> records_{0};
  std::atomic<int> poll_error_{0};    // errno of a failed ring_buffer__poll: the thread has ended
  const char* exit_program_ = "";     // which exit handler is loaded: "group_dead" or "live"
  std::vector<uint64_t> final_counters_;  // the kernel's counters as they were at teardown
};
