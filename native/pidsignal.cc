// pidsignal.cc: the UI's kill action. The pidfd is opened first and the start time read after:
// when /proc shows the expected start, the pidfd (which pins what it opened) is that process;
// any other start means the pid was reused (or is being reused) and nothing is sent.
#include "pidsignal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434  // the same number on every architecture (unified syscall table)
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

namespace {

// Field 22 of /proc/PID/stat (start time in clock ticks), or -1 when it cannot be read.
long long StartTicks(int pid) {
  char path[32];
  snprintf(path, sizeof(path), "/proc/%d/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[1024];
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  // comm may hold spaces and parentheses: fields start after the last ')'.
  char* p = strrchr(buf, ')');
  if (!p) return -1;
  p += 2;  // ") " then field 3 (state)
  for (int field = 3; field < 22; field++) {
    p = strchr(p, ' ');
    if (!p) return -1;
    p++;
  }
  return strtoll(p, nullptr, 10);
}

}  // namespace

// Returns "sent", or why not: "gone" (no such process), "reused" (the pid is another process now),
// "permission", or "error: <strerror>".
Napi::Value SignalProcess(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pid = info[0].ToNumber().Int32Value();
  long long start = info[1].ToNumber().Int64Value();
  int sig = info[2].ToNumber().Int32Value();
  auto result = [&](const std::string& s) { return Napi::String::New(env, s); };
  if (pid <= 0) return result("gone");
  int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) {
    if (errno == ESRCH) return result("gone");
    return result(std::string("error: ") + strerror(errno));
  }
  long long now = StartTicks(pid);
  if (now < 0) {
    close(fd);
    return result("gone");
  }
  if (now != start) {
    close(fd);
    return result("reused");
  }
  long rc = syscall(SYS_pidfd_send_signal, fd, sig, nullptr, 0);
  int err = errno;
  close(fd);
  if (rc == 0) return result("sent");
  if (err == ESRCH) return result("gone");
  if (err == EPERM) return result("permission");
  return result(std::string("error: ") + strerror(err));
}
