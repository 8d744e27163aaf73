// maps.h: the knobs JS turns on loaded programs without reloading them: the comm filter, the
// traced set (keyed by start time) and the per-CPU counters. No N-API here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

struct lifecycle_bpf;

// Replaces the filter live ("*" = everything, "text*" = prefix, else exact) and empties the
// traced set; the caller re-seeds what still matches. Throws BpfError on a bad pattern.
void WriteFilter(lifecycle_bpf& skel, const std::vector<std::string>& patterns, bool follow_children);

// Marks a running process traced; false when the traced set is full.
bool TrackProcess(lifecycle_bpf& skel, uint32_t pid, uint64_t start_ns);

// Cumulative counters summed over CPUs, indexed by the LT_CTR_* enum.
std::vector<uint64_t> ReadCounters(lifecycle_bpf& skel);
