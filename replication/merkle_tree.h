// A hash tree over the keys one node holds in one ring partition, for
// anti-entropy: two replicas of the partition compare their trees from the
// root down and sync only the keys of the segments whose hashes differ.
//
// The tree has kLevels levels of fan-out kFanout: level 0 is the root,
// level kLevels - 1 holds the kSegments segments (leaves). A key belongs to
// segment SegmentOf(key), from its hash. A segment's hash is the XOR of the
// entry hashes of its keys, an entry hash covering the key and its causal
// state (EntryHash), and an inner node's the XOR of its children's. So a
// write changes the tree in O(kLevels) (XOR out the key's old entry hash,
// XOR in the new) and the tree is maintained as writes land, never rebuilt
// for an exchange; the order in which two updates are applied does not
// matter (XOR commutes).
//
// Comparing two trees costs work in proportion to the differences (at most
// kFanout hashes per level per differing segment), not to the keys held.
//
// A value type; not thread-safe.
#ifndef QUORUMKV_REPLICATION_MERKLE_TREE_H_
#define QUORUMKV_REPLICATION_MERKLE_TREE_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "replication/object.h"

namespace quorumkv {

class MerkleTree {
 public:
  static constexpr uint32_t kFanout = 32;
  static constexpr int kLevels = 3;  // root, 32 nodes, 1024 segments
  static constexpr uint32_t kSegments = kFanout * kFanout;

  MerkleTree();

  // The segment of `key`.
  static uint32_t SegmentOf(absl::string_view key);
  // The entry hash of `key` holding `object`: covers the key, the object's
  // causal context and its siblings' dots and tombstone flags (not their
  // values: a value never changes under the same dot). Never 0, so that 0
  // can stand for "no entry".
  static uint64_t EntryHash(absl::string_view key, const Object& object);

  // Replaces the entry hash of `key`: `before` (0 if the key had no entry)
  // by `after` (0 if it has none now).
  void Update(absl::string_view key, uint64_t before, uint64_t after);

  uint64_t root() const { return levels_[0][0]; }
  // The hash of node `index` of `level` (0 <= index < kFanout^level).
  uint64_t Hash(int level, uint32_t index) const { return levels_[level][index]; }
  // The hashes of the kFanout children of node `index` of `level`.
  // REQUIRES: level < kLevels - 1.
  std::vector<uint64_t> Children(int level, uint32_t index) const;

 private:
  std::vector<std::vector<uint64_t>> levels_;  // levels_[l] has kFanout^l hashes
};

// A peer's children hashes of node `index` of `level` (an RPC in a node, a
// function of another tree in tests). May fail (the peer is unreachable).
using RemoteChildren =
    std::function<absl::StatusOr<std::vector<uint64_t>>(int level, uint32_t index)>;

struct TreeDiff {
  std::vector<uint32_t> segments;  // those whose hashes differ, ascending
  uint64_t hashes_compared = 0;    // the work: node hashes fetched and compared
};

// Compares `local` with a peer's tree whose root hash is `remote_root`,
// descending only into differing nodes. An error of `remote` ends the diff
// with that error.
absl::StatusOr<TreeDiff> DiffTrees(const MerkleTree& local, uint64_t remote_root,
                                   const RemoteChildren& remote);

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_MERKLE_TREE_H_
