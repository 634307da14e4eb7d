// MerkleTree: the diff of two trees finds exactly the segments holding a
// differing key (against a brute-force diff), and costs work in proportion
// to the differences, not to the keys.
#include "replication/merkle_tree.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <unordered_map>
#include <vector>

#include "absl/strings/str_cat.h"

namespace quorumkv {
namespace {

// An object written once, by `actor` at `counter`.
Object Written(const std::string& actor, uint64_t counter, bool tombstone = false) {
  Object o;
  o.context.Add(Dot{actor, counter});
  o.siblings.push_back(
      Sibling{.dot = Dot{actor, counter}, .tombstone = tombstone, .value = tombstone ? "" : "v"});
  return o;
}

// A replica's keys and the tree it maintains over them.
class Replica {
 public:
  void Put(const std::string& key, const Object& object) {
    const uint64_t after = MerkleTree::EntryHash(key, object);
    auto it = entries_.find(key);
    tree_.Update(key, it == entries_.end() ? 0 : it->second, after);
    entries_[key] = after;
  }
  void Erase(const std::string& key) {
    auto it = entries_.find(key);
    if (it == entries_.end()) return;
    tree_.Update(key, it->second, 0);
    entries_.erase(it);
  }
  const MerkleTree& tree() const { return tree_; }
  const std::unordered_map<std::string, uint64_t>& entries() const { return entries_; }

 private:
  MerkleTree tree_;
  std::unordered_map<std::string, uint64_t> entries_;
};

RemoteChildren ChildrenOf(const MerkleTree& tree) {
  return [&tree](int level, uint32_t index) -> absl::StatusOr<std::vector<uint64_t>> {
    return tree.Children(level, index);
  };
}

// The segments of every key that one replica lacks or holds differently.
std::vector<uint32_t> BruteForceDiff(const Replica& a, const Replica& b) {
  std::set<uint32_t> segments;
  for (const auto& [key, hash] : a.entries()) {
    auto it = b.entries().find(key);
    if (it == b.entries().end() || it->second != hash) segments.insert(MerkleTree::SegmentOf(key));
  }
  for (const auto& [key, hash] : b.entries()) {
    if (a.entries().count(key) == 0) segments.insert(MerkleTree::SegmentOf(key));
  }
  return {segments.begin(), segments.end()};
}

TEST(MerkleTreeTest, TheDiffFindsExactlyTheSegmentsOfDifferingKeys) {
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    std::mt19937_64 rng(seed);
    Replica a, b;
    const int keys = 1 + static_cast<int>(rng() % 3000);
    // Equal objects have equal entry hashes: five objects serve every key.
    std::vector<Object> versions;
    for (uint64_t counter = 1; counter <= 5; ++counter)
      versions.push_back(Written("n1.1", counter));
    for (int i = 0; i < keys; ++i) {
      const std::string key = absl::StrCat("k", i);
      const Object& o = versions[rng() % 5];
      a.Put(key, o);
      b.Put(key, o);
    }
    // Some differences: a newer version on one side, a key on one side
    // only, a tombstone against a value (same dot), or none at all.
    const int differences = static_cast<int>(rng() % 12);
    for (int d = 0; d < differences; ++d) {
      const std::string key = absl::StrCat("k", rng() % (keys + 20));
      Replica& side = rng() % 2 ? a : b;
      switch (rng() % 4) {
        case 0:
          side.Put(key, Written("n2.1", 10 + rng() % 5));
          break;
        case 1:
          side.Erase(key);
          break;
        case 2:
          side.Put(key, Written("n1.1", 1, /*tombstone=*/true));
          break;
        default:
          break;
      }
    }
    absl::StatusOr<TreeDiff> diff = DiffTrees(a.tree(), b.tree().root(), ChildrenOf(b.tree()));
    ASSERT_TRUE(diff.ok()) << diff.status();
    ASSERT_EQ(diff->segments, BruteForceDiff(a, b)) << "seed " << seed;
    EXPECT_EQ(a.tree().root() == b.tree().root(), diff->segments.empty()) << "seed " << seed;
  }
}

TEST(MerkleTreeTest, TheWorkOfADiffGrowsWithTheDifferencesNotTheKeys) {
  Replica a, b;
  for (int i = 0; i < 30'000; ++i) {
    const Object o = Written("n1.1", 1 + i % 7);
    a.Put(absl::StrCat("k", i), o);
    b.Put(absl::StrCat("k", i), o);
  }
  absl::StatusOr<TreeDiff> same = DiffTrees(a.tree(), b.tree().root(), ChildrenOf(b.tree()));
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->hashes_compared, 1u);  // the roots only
  b.Put("k77", Written("n3.1", 1));
  absl::StatusOr<TreeDiff> one = DiffTrees(a.tree(), b.tree().root(), ChildrenOf(b.tree()));
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->segments, std::vector<uint32_t>{MerkleTree::SegmentOf("k77")});
  // The root, then one node's children per level below it.
  EXPECT_EQ(one->hashes_compared, 1u + MerkleTree::kFanout * (MerkleTree::kLevels - 1));
  for (int i = 0; i < 9; ++i) b.Put(absl::StrCat("k", 1000 + i), Written("n3.1", 2));
  absl::StatusOr<TreeDiff> ten = DiffTrees(a.tree(), b.tree().root(), ChildrenOf(b.tree()));
  ASSERT_TRUE(ten.ok());
  EXPECT_LE(ten->hashes_compared, 1u + 10 * MerkleTree::kFanout * (MerkleTree::kLevels - 1));
}

TEST(MerkleTreeTest, UpdatesCommuteAndUndoingAWriteRestoresTheTree) {
  Replica a;
  a.Put("x", Written("n1.1", 1));
  const uint64_t before = a.tree().root();
  MerkleTree forward, backward;
  const uint64_t h1 = MerkleTree::EntryHash("x", Written("n1.1", 1));
  const uint64_t h2 = MerkleTree::EntryHash("x", Written("n1.1", 2));
  const uint64_t h3 = MerkleTree::EntryHash("y", Written("n2.1", 1));
  forward.Update("x", 0, h1);
  forward.Update("x", h1, h2);
  forward.Update("y", 0, h3);
  backward.Update("y", 0, h3);
  backward.Update("x", h1, h2);  // applied before the update it follows
  backward.Update("x", 0, h1);
  EXPECT_EQ(forward.root(), backward.root());
  a.Put("x", Written("n1.1", 2));
  a.Put("x", Written("n1.1", 1));
  EXPECT_EQ(a.tree().root(), before);
}

TEST(MerkleTreeTest, EntryHashesCoverTheCausalStateNotJustTheKey) {
  const uint64_t v1 = MerkleTree::EntryHash("k", Written("n1.1", 1));
  EXPECT_NE(v1, MerkleTree::EntryHash("k", Written("n1.1", 2)));
  EXPECT_NE(v1, MerkleTree::EntryHash("j", Written("n1.1", 1)));
  EXPECT_NE(v1, MerkleTree::EntryHash("k", Written("n1.1", 1, /*tombstone=*/true)));
  Object siblings = Written("n1.1", 1);
  siblings.context.Add(Dot{"n2.1", 1});
  siblings.siblings.push_back(Sibling{.dot = Dot{"n2.1", 1}, .value = "w"});
  EXPECT_NE(v1, MerkleTree::EntryHash("k", siblings));
  EXPECT_NE(MerkleTree::EntryHash("k", Object{}), 0u);
}

TEST(MerkleTreeTest, APeerThatFailsOrSendsAMalformedNodeEndsTheDiff) {
  Replica a, b;
  b.Put("k", Written("n1.1", 1));
  absl::StatusOr<TreeDiff> failed = DiffTrees(
      a.tree(), b.tree().root(), [](int, uint32_t) -> absl::StatusOr<std::vector<uint64_t>> {
        return absl::UnavailableError("n2 is down");
      });
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  absl::StatusOr<TreeDiff> malformed = DiffTrees(
      a.tree(), b.tree().root(), [](int, uint32_t) -> absl::StatusOr<std::vector<uint64_t>> {
        return std::vector<uint64_t>(3, 0);
      });
  EXPECT_EQ(malformed.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace quorumkv
