// consumer.cc: ring buffer → pending batch → ready queue → one nudge per batch. The poll
// thread only polls, checks the stop flag and appends; JS takes the bytes when nudged.
#include "consumer.h"

#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>

namespace {

constexpr size_t kMaxReadyBytes = 256u << 20;  // JS this far behind: drop (and count) rather than grow

}  // namespace

size_t ReadyQueue::TakeAll(std::deque<std::vector<uint8_t>>* out) {
  std::lock_guard<std::mutex> lock(mu);
  out->swap(batches);
  size_t taken = bytes;
  bytes = 0;
  return taken;
}

int Consumer::Open(int events_fd, int poll_ms) {
  poll_ms_ = poll_ms;
  rb_ = ring_buffer__new(events_fd, OnRecord, this, nullptr);
  return rb_ ? 0 : errno;
}

void Consumer::Start(Notify notify) {
  notify_ = std::move(notify);
  stopping_ = false;
  thread_ = std::thread(&Consumer::PollLoop, this);
}

// The caller detaches the producers first, so this drain is the last word.
void Consumer::Stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  if (!rb_) return;
  ring_buffer__consume(rb_);
  Flush();
  ring_buffer__free(rb_);
  rb_ = nullptr;
}

ConsumerStats Consumer::stats() const {
  return ConsumerStats{batches_.load(), merges_.load(), records_.load(), lost_.load(), poll_error_.load()};
}

int Consumer::OnRecord(void* ctx, void* data, size_t size) {
  static_cast<Consumer*>(ctx)->Append(data, size);
  return 0;
}

void Consumer::Append(const void* data, size_t size) {
  uint32_t len = static_cast<uint32_t>(size);
  size_t at = pending_.size();
  size_t padded = (sizeof(len) + size + 7) & ~size_t(7);
  pending_.resize(at + padded);
  memcpy(pending_.data() + at, &len, sizeof(len));
  memcpy(pending_.data() + at + sizeof(len), data, size);
  pending_records_++;
  records_++;
}

void Consumer::PollLoop() {
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
// The nudge carries no data: if JS is behind, the next nudge takes both.
void Consumer::Flush() {
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
  if (stopping_.load()) return;  // Stop() leaves the rest for the caller to take
  if (notify_())
    batches_++;
  else
    merges_++;
}
