#include "replication/merkle_tree.h"

#include <xxhash.h>

#include <string>

namespace quorumkv {
namespace {

// Appends `v` to `out` in 8 little-endian bytes.
void AppendU64(uint64_t v, std::string* out) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

void AppendString(absl::string_view s, std::string* out) {
  AppendU64(s.size(), out);
  out->append(s.data(), s.size());
}

}  // namespace

MerkleTree::MerkleTree() {
  uint32_t width = 1;
  for (int level = 0; level < kLevels; ++level) {
    levels_.emplace_back(width, 0);
    width *= kFanout;
  }
}

uint32_t MerkleTree::SegmentOf(absl::string_view key) {
  // Another seed than the ring's: the keys of one partition share the top
  // bits of the ring's hash, and would crowd a few segments.
  const uint64_t h = XXH64(key.data(), key.size(), /*seed=*/0x6d65726b6c65ULL);  // "merkle"
  return static_cast<uint32_t>(h % kSegments);
}

uint64_t MerkleTree::EntryHash(absl::string_view key, const Object& object) {
  std::string bytes;
  AppendString(key, &bytes);
  for (const auto& [actor, counter] : object.context.entries()) {
    AppendString(actor, &bytes);
    AppendU64(counter, &bytes);
  }
  AppendU64(object.siblings.size(), &bytes);
  for (const Sibling& s : object.siblings) {
    AppendString(s.dot.actor, &bytes);
    AppendU64(s.dot.counter, &bytes);
    bytes.push_back(s.tombstone ? 1 : 0);
  }
  const uint64_t h = XXH64(bytes.data(), bytes.size(), 0);
  return h == 0 ? 1 : h;
}

void MerkleTree::Update(absl::string_view key, uint64_t before, uint64_t after) {
  const uint64_t change = before ^ after;
  if (change == 0) return;
  uint32_t index = SegmentOf(key);
  for (int level = kLevels - 1; level >= 0; --level) {
    levels_[level][index] ^= change;
    index /= kFanout;
  }
}

std::vector<uint64_t> MerkleTree::Children(int level, uint32_t index) const {
  const std::vector<uint64_t>& below = levels_[level + 1];
  return std::vector<uint64_t>(below.begin() + index * kFanout,
                               below.begin() + (index + 1) * kFanout);
}

absl::StatusOr<TreeDiff> DiffTrees(const MerkleTree& local, uint64_t remote_root,
                                   const RemoteChildren& remote) {
  TreeDiff diff;
  diff.hashes_compared = 1;
  if (local.root() == remote_root) return diff;
  std::vector<uint32_t> differing = {0};  // nodes of `level` whose hashes differ
  for (int level = 0; level < MerkleTree::kLevels - 1; ++level) {
    std::vector<uint32_t> next;
    for (uint32_t index : differing) {
      absl::StatusOr<std::vector<uint64_t>> theirs = remote(level, index);
      if (!theirs.ok()) return theirs.status();
      if (theirs->size() != MerkleTree::kFanout) {
        return absl::InvalidArgumentError("a peer sent a tree node of the wrong width");
      }
      const std::vector<uint64_t> ours = local.Children(level, index);
      diff.hashes_compared += MerkleTree::kFanout;
      for (uint32_t child = 0; child < MerkleTree::kFanout; ++child) {
        if (ours[child] != (*theirs)[child]) next.push_back(index * MerkleTree::kFanout + child);
      }
    }
    differing = std::move(next);
  }
  diff.segments = std::move(differing);
  return diff;
}

}  // namespace quorumkv
