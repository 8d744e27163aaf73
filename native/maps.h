// maps.h: the knobs JS turns on loaded programs without reloading them: the comm filter, the
// traced set (keyed by start time) and the per-CPU counters. No N-API here.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

struct lifecycle_bpf;

// Replaces the filter live ("*" = everything, "text*" = prefix, else exact) and empties the
// traced set; the caller re-seeds what still matches. Throws BpfError on a bad pattern.
// One comm pattern as core/filter compiled it: text without the '*', and whether it had one.
struct Pattern {
  std::string text;
  bool prefix;
};

void WriteFilter(lifecycle_bpf& skel, bool match_all, const std::vector<Pattern>& patterns, bool follow_children);

// --unit in the kernel: replaces the deny lists (v2 ids with LT_UNIT_DENY or LT_UNIT_BY_MEMCG,
// v1 memory ids denied) and turns the check on or off. What does not fit is left out: it passes.
void WriteUnitDeny(lifecycle_bpf& skel, bool enabled, const std::vector<std::pair<uint64_t, uint8_t>>& v2,
                   const std::vector<uint64_t>& memcg);

// Marks a running process traced; false when the traced set is full.
bool TrackProcess(lifecycle_bpf& skel, uint32_t pid, uint64_t start_ns);

// Cumulative counters summed over CPUs, indexed by the LT_CTR_* enum.
std::vector<uint64_t> ReadCounters(lifecycle_bpf& skel);
