// Placement: which nodes hold a key.
//
// The hash space [0, 2^64) of StableHash is cut into P = nodes x
// vnodes_per_node equal partitions (Riak-style), and every node owns exactly
// vnodes_per_node of them, so the key space is split evenly by construction.
// Owners are dealt round by round, each round a fixed pseudo-random
// permutation of the nodes, so a node's successors vary from partition to
// partition and a failed node's load spreads over the others.
//
// A key's preference list is the first N distinct nodes found walking the
// partitions clockwise from the key's partition (its home replicas), followed
// by every other node in the order the walk meets them (its fallbacks).
//
// Everything here is a pure function of the node ids, vnodes_per_node and N:
// any process, on any machine, computes the same ring.
#ifndef QUORUMKV_REPLICATION_RING_H_
#define QUORUMKV_REPLICATION_RING_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace quorumkv {

// xxHash64 with seed 0: fixed across processes, machines and releases.
uint64_t StableHash(absl::string_view bytes);

struct PreferenceList {
  std::vector<std::string> home;       // the N home replicas, in ring order
  std::vector<std::string> fallbacks;  // every other node, in ring order
};

// Immutable after Create; thread-safe.
class Ring {
 public:
  // INVALID_ARGUMENT if nodes are empty or repeat, vnodes_per_node is 0, or
  // replication_factor is not in 1..nodes.size().
  static absl::StatusOr<Ring> Create(std::vector<std::string> nodes, uint32_t vnodes_per_node,
                                     uint32_t replication_factor);

  uint32_t PartitionOf(absl::string_view key) const;
  // The StableHash values of `partition`'s keys: [first, last].
  std::pair<uint64_t, uint64_t> HashRangeOf(uint32_t partition) const;
  const PreferenceList& ForPartition(uint32_t partition) const { return lists_[partition]; }
  const PreferenceList& ForKey(absl::string_view key) const { return lists_[PartitionOf(key)]; }
  bool IsHome(absl::string_view key, absl::string_view node) const;

  uint32_t partition_count() const { return static_cast<uint32_t>(owners_.size()); }
  // The node that owns `partition`: the first of its home replicas.
  const std::string& Owner(uint32_t partition) const { return nodes_[owners_[partition]]; }
  const std::vector<std::string>& nodes() const { return nodes_; }
  uint32_t replication_factor() const { return replication_factor_; }

 private:
  Ring() = default;
  void BuildPreferenceLists();

  std::vector<std::string> nodes_;  // sorted
  uint32_t replication_factor_ = 0;
  std::vector<uint32_t> owners_;  // partition -> index into nodes_
  std::vector<PreferenceList> lists_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_RING_H_
