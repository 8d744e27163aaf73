// tracer.h: Tracer, the JS face of the BPF side: owns the loaded programs, the consumer
// and the thread-safe function that nudges JS, and tears them down in the right order.
#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "consumer.h"
#include "loader.h"

class Tracer : public Napi::ObjectWrap<Tracer> {
 public:
  static Napi::Object Init(Napi::Env env, Napi::Object exports);
  explicit Tracer(const Napi::CallbackInfo& info);
  ~Tracer() override;

 private:
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Stop(const Napi::CallbackInfo& info);
  Napi::Value SetFilter(const Napi::CallbackInfo& info);
  Napi::Value Track(const Napi::CallbackInfo& info);
  Napi::Value SetUnitDeny(const Napi::CallbackInfo& info);
  Napi::Value Counters(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);

  void StartConsumer(Napi::Env env, Napi::Function on_batch);
  bool Notify();
  void Teardown();
  static void CleanupHook(void* arg);

  int poll_ms_;
  std::unique_ptr<Programs> programs_;  // null once stopped
  Consumer consumer_;
  Napi::ThreadSafeFunction tsfn_;
  bool running_ = false;
  const char* exit_program_ = "";         // which exit handler was loaded; kept for stats()
  std::vector<uint64_t> final_counters_;  // the kernel's counters as they were at teardown
};
