// pidsignal.h: signalProcess(pid, startTicks, sig): a signal to one exact process, through a
// pidfd, so a pid reused since the caller looked is never hit.
#pragma once

#include <napi.h>

Napi::Value SignalProcess(const Napi::CallbackInfo& info);
