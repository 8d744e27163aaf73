// maps.cc: userspace's writes and reads of the BPF maps; the layouts come from
// bpf/lifecycle.h, shared with the programs that read them.
#include <cerrno>
#include "maps.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

#include <cstring>

#include "loader.h"

extern "C" {
#include "lifecycle.h"
#include "lifecycle.skel.h"
}

namespace {

// The map's layout for one compiled pattern. The kernel compares at most LT_COMM_LEN - 1 bytes:
// core/filter refuses longer ones; this only keeps a bad call from writing past the field.
struct lt_pattern ToMap(const Pattern& p) {
  struct lt_pattern pat = {};
  if (p.text.empty() || p.text.size() >= LT_COMM_LEN)
    throw Fail("EINVAL", "a pattern must be 1 to 15 bytes");
  memcpy(pat.text, p.text.data(), p.text.size());
  pat.len = static_cast<uint32_t>(p.text.size());
  pat.prefix = p.prefix ? 1 : 0;
  return pat;
}

// Patterns go in before the config that counts them, so the kernel never reads a count
// ahead of its entries; a bad pattern stops before the config changes.
void WritePatterns(lifecycle_bpf& skel, const std::vector<Pattern>& patterns, struct lt_config* cfg) {
  std::vector<struct lt_pattern> out;
  for (const Pattern& p : patterns) out.push_back(ToMap(p));
  for (const struct lt_pattern& pat : out) {
    uint32_t key = cfg->npatterns++;
    bpf_map__update_elem(skel.maps.patterns, &key, sizeof(key), &pat, sizeof(pat), BPF_ANY);
  }
}

// Deletes every entry of a hash map keyed by K (keys collected first: deleting while
// iterating with get_next_key can restart the walk).
template <typename K>
void ClearMap(const struct bpf_map* map) {
  int fd = bpf_map__fd(map);
  K key, next;
  std::vector<K> keys;
  for (int r = bpf_map_get_next_key(fd, nullptr, &next); r == 0; r = bpf_map_get_next_key(fd, &key, &next)) {
    keys.push_back(next);
    key = next;
  }
  for (K k : keys) bpf_map_delete_elem(fd, &k);
}

}  // namespace

void WriteFilter(lifecycle_bpf& skel, bool match_all, const std::vector<Pattern>& patterns, bool follow_children) {
  if (patterns.size() > LT_MAX_PATTERNS)
    throw Fail("EINVAL", "at most " + std::to_string(LT_MAX_PATTERNS) + " patterns");
  struct lt_config cfg = {};
  uint32_t zero = 0;
  struct lt_config old = {};
  if (bpf_map__lookup_elem(skel.maps.filter_config, &zero, sizeof(zero), &old, sizeof(old), 0) == 0)
    cfg.unit_filter = old.unit_filter;  // --unit stays as it was
  cfg.follow_children = follow_children ? 1 : 0;
  cfg.match_all = match_all ? 1 : 0;
  WritePatterns(skel, patterns, &cfg);
  bpf_map__update_elem(skel.maps.filter_config, &zero, sizeof(zero), &cfg, sizeof(cfg), BPF_ANY);
  ClearMap<uint32_t>(skel.maps.traced);  // what the old filter traced must not outlive it
}

void WriteUnitDeny(lifecycle_bpf& skel, bool enabled, const std::vector<std::pair<uint64_t, uint8_t>>& v2,
                   const std::vector<uint64_t>& memcg) {
  uint32_t zero = 0;
  struct lt_config cfg = {};
  bpf_map__lookup_elem(skel.maps.filter_config, &zero, sizeof(zero), &cfg, sizeof(cfg), 0);
  cfg.unit_filter = 0;  // off while the lists change, so no exec sees half of them
  bpf_map__update_elem(skel.maps.filter_config, &zero, sizeof(zero), &cfg, sizeof(cfg), BPF_ANY);
  ClearMap<uint64_t>(skel.maps.unit_v2);
  ClearMap<uint64_t>(skel.maps.unit_memcg);
  if (!enabled) return;
  for (const auto& [id, value] : v2)
    bpf_map__update_elem(skel.maps.unit_v2, &id, sizeof(id), &value, sizeof(value), BPF_ANY);
  uint8_t deny = LT_UNIT_DENY;
  for (uint64_t id : memcg)
    bpf_map__update_elem(skel.maps.unit_memcg, &id, sizeof(id), &deny, sizeof(deny), BPF_ANY);
  cfg.unit_filter = 1;
  bpf_map__update_elem(skel.maps.filter_config, &zero, sizeof(zero), &cfg, sizeof(cfg), BPF_ANY);
}

// The traced set stores start ticks, what /proc/PID/stat field 22 counts, so a reused pid
// never matches its predecessor's entry.
// Never overwrites a newer process's entry: between a /proc scan and this call the pid may
// have been reused by a child the kernel already tracks (start times only grow for a pid).
bool TrackProcess(lifecycle_bpf& skel, uint32_t pid, uint64_t start_ns) {
  uint64_t ticks = start_ns / LT_NS_PER_TICK;
  int err = bpf_map__update_elem(skel.maps.traced, &pid, sizeof(pid), &ticks, sizeof(ticks), BPF_NOEXIST);
  if (err == 0) return true;
  if (err != -EEXIST) return false;  // full: counted by the caller
  uint64_t held = 0;
  if (bpf_map__lookup_elem(skel.maps.traced, &pid, sizeof(pid), &held, sizeof(held), 0) != 0 || held >= ticks)
    return true;  // gone meanwhile, or already this process (or a newer one): nothing to do
  return bpf_map__update_elem(skel.maps.traced, &pid, sizeof(pid), &ticks, sizeof(ticks), BPF_EXIST) == 0;
}

std::vector<uint64_t> ReadCounters(lifecycle_bpf& skel) {
  int ncpu = libbpf_num_possible_cpus();
  std::vector<uint64_t> values(ncpu > 0 ? ncpu : 1);
  std::vector<uint64_t> sums(LT_CTR_COUNT, 0);
  for (uint32_t idx = 0; idx < LT_CTR_COUNT; idx++) {
    if (bpf_map__lookup_elem(skel.maps.counters, &idx, sizeof(idx), values.data(),
                             values.size() * sizeof(uint64_t), 0) == 0)
      for (uint64_t v : values) sums[idx] += v;
  }
  return sums;
}
