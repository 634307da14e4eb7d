#include "replication/ring.h"

#include <xxhash.h>

#include <algorithm>
#include <numeric>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace quorumkv {
namespace {

// SplitMix64: a tiny, fully specified generator. std::shuffle and the
// standard distributions are implementation-defined, so they could deal a
// different ring on another standard library.
uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// The order in which round `round` deals its partitions to the nodes.
std::vector<uint32_t> RoundPermutation(uint32_t node_count, uint32_t round) {
  std::vector<uint32_t> perm(node_count);
  std::iota(perm.begin(), perm.end(), 0);
  uint64_t state = round;
  for (uint32_t i = node_count; i > 1; --i) {
    std::swap(perm[i - 1], perm[SplitMix64(state) % i]);
  }
  return perm;
}

}  // namespace

uint64_t StableHash(absl::string_view bytes) { return XXH64(bytes.data(), bytes.size(), 0); }

absl::StatusOr<Ring> Ring::Create(std::vector<std::string> nodes, uint32_t vnodes_per_node,
                                  uint32_t replication_factor) {
  std::sort(nodes.begin(), nodes.end());
  if (nodes.empty()) return absl::InvalidArgumentError("ring has no nodes");
  if (std::adjacent_find(nodes.begin(), nodes.end()) != nodes.end()) {
    return absl::InvalidArgumentError("ring lists a node twice");
  }
  if (vnodes_per_node == 0) return absl::InvalidArgumentError("vnodes_per_node is 0");
  if (replication_factor < 1 || replication_factor > nodes.size()) {
    return absl::InvalidArgumentError(absl::StrCat("replication factor N=", replication_factor,
                                                   " is not in 1..", nodes.size(),
                                                   " (the number of nodes)"));
  }
  Ring ring;
  ring.nodes_ = std::move(nodes);
  ring.replication_factor_ = replication_factor;
  const uint32_t node_count = static_cast<uint32_t>(ring.nodes_.size());
  for (uint32_t round = 0; round < vnodes_per_node; ++round) {
    std::vector<uint32_t> perm = RoundPermutation(node_count, round);
    // Keep a node from owning two neighbouring partitions across rounds.
    if (node_count > 1 && !ring.owners_.empty() && perm[0] == ring.owners_.back()) {
      std::swap(perm[0], perm[1]);
    }
    ring.owners_.insert(ring.owners_.end(), perm.begin(), perm.end());
  }
  ring.BuildPreferenceLists();
  return ring;
}

void Ring::BuildPreferenceLists() {
  const uint32_t count = partition_count();
  lists_.resize(count);
  for (uint32_t p = 0; p < count; ++p) {
    std::vector<bool> seen(nodes_.size(), false);
    PreferenceList& list = lists_[p];
    for (uint32_t step = 0;
         step < count && list.home.size() + list.fallbacks.size() < nodes_.size(); ++step) {
      const uint32_t owner = owners_[(p + step) % count];
      if (seen[owner]) continue;
      seen[owner] = true;
      auto& into = list.home.size() < replication_factor_ ? list.home : list.fallbacks;
      into.push_back(nodes_[owner]);
    }
  }
}

uint32_t Ring::PartitionOf(absl::string_view key) const {
  // Scale the hash onto [0, P): equal partitions of the 64-bit space.
  const unsigned __int128 scaled =
      static_cast<unsigned __int128>(StableHash(key)) * partition_count();
  return static_cast<uint32_t>(scaled >> 64);
}

std::pair<uint64_t, uint64_t> Ring::HashRangeOf(uint32_t partition) const {
  // The inverse of PartitionOf: h is in p when p * 2^64 <= h * P < (p + 1) * 2^64.
  const unsigned __int128 count = partition_count();
  auto first_of = [&](unsigned __int128 p) -> unsigned __int128 {
    return ((p << 64) + count - 1) / count;  // ceil(p * 2^64 / P)
  };
  const unsigned __int128 last = first_of(partition + 1) - 1;
  return {static_cast<uint64_t>(first_of(partition)), static_cast<uint64_t>(last)};
}

bool Ring::IsHome(absl::string_view key, absl::string_view node) const {
  const auto& home = ForKey(key).home;
  return std::find(home.begin(), home.end(), node) != home.end();
}

}  // namespace quorumkv
