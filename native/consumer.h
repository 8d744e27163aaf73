// consumer.h: the reader side of the ring buffer: a poll thread copies records into batches
// and queues them for JS, counting what it merges and drops. Knows nothing of N-API.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

struct ring_buffer;

constexpr int kDefaultPollMs = 50;  // idle latency bound: a lone event shows within this

// Batches waiting for JS. Shared with queued notifications, so one that arrives after the
// consumer is gone touches only this.
struct ReadyQueue {
  std::mutex mu;
  std::deque<std::vector<uint8_t>> batches;
  size_t bytes = 0;

  // Moves every waiting batch to *out; returns their total size (0: nothing waited).
  size_t TakeAll(std::deque<std::vector<uint8_t>>* out);
};

struct ConsumerStats {
  uint64_t batches;  // notifications sent
  uint64_t merges;   // notifications not sent because JS was behind (the next one takes both)
  uint64_t records;  // records read from the ring buffer
  uint64_t lost;     // records dropped because JS fell too far behind
  int poll_error;    // errno of a failed poll: the thread has ended; 0 while healthy
};

class Consumer {
 public:
  // Tells JS "batches are ready"; runs on the poll thread. Returns false when the
  // notification could not be queued (JS is behind).
  using Notify = std::function<bool()>;

  Consumer() = default;
  ~Consumer() { Stop(); }
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  int Open(int events_fd, int poll_ms);  // 0, or the errno of a ring buffer that cannot open
  void Start(Notify notify);
  // Joins the thread, drains what the kernel still holds into the ready queue (no
  // notification: the caller takes it) and frees the ring buffer. Safe to call again.
  void Stop();

  std::shared_ptr<ReadyQueue> ready() const { return ready_; }
  ConsumerStats stats() const;

 private:
  static int OnRecord(void* ctx, void* data, size_t size);
  void Append(const void* data, size_t size);
  void PollLoop();
  void Flush();

  ring_buffer* rb_ = nullptr;
  int poll_ms_ = kDefaultPollMs;
  Notify notify_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  // Records collected by the poll thread since the last hand-off: each one is
  // a u32 length followed by the record, padded to 8 bytes.
  std::vector<uint8_t> pending_;
  uint64_t pending_records_ = 0;
  std::shared_ptr<ReadyQueue> ready_ = std::make_shared<ReadyQueue>();
  std::atomic<uint64_t> batches_{0};
  std::atomic<uint64_t> merges_{0};
  std::atomic<uint64_t> records_{0};
  std::atomic<uint64_t> lost_{0};
  std::atomic<int> poll_error_{0};
};
