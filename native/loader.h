// loader.h: from "can BPF run here?" to loaded, attachable programs: privilege and kernel
// probes, the exit-program choice, libbpf's log and the one-line errors. No N-API here.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

struct lifecycle_bpf;

// One failure a user can act on: a stable code for scripts and tests (EPERM_BPF, NO_BTF,
// NO_RINGBUF, VERIFIER, ...), one line for people, and libbpf's own words for --verbose.
struct BpfError {
  std::string code;
  std::string message;
  std::string log;
};

// Builds a BpfError carrying what libbpf has said since the last one (the verifier log).
BpfError Fail(const std::string& code, const std::string& message);

struct LoadOptions {
  uint32_t ring_bytes;       // a power of two, at least 4096
  bool verbose;              // keep libbpf's debug lines too
  std::string exit_program;  // "auto", or "live"/"group_dead" to force one (tests use "live")
};

// Loaded (not yet attached) programs; owns the skeleton, and so its maps and links.
class Programs {
 public:
  static std::unique_ptr<Programs> Load(const LoadOptions& opts);  // throws BpfError
  ~Programs();
  Programs(const Programs&) = delete;
  Programs& operator=(const Programs&) = delete;

  void Attach();  // throws BpfError
  void Detach();  // nothing is produced after this returns
  int EventsFd() const;
  lifecycle_bpf& skel() const { return *skel_; }
  const char* exit_program() const { return exit_program_; }  // "group_dead" or "live"

 private:
  Programs(lifecycle_bpf* skel, const char* exit_program) : skel_(skel), exit_program_(exit_program) {}

  lifecycle_bpf* skel_;
  const char* exit_program_;
};
