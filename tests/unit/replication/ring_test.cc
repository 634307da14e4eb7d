// Placement: balance of the key space and of replica load, preference list
// shape, determinism, and the pinned hash function.
#include "replication/ring.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "replication/cluster_config.h"

namespace quorumkv {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t kSeed = 20240601;
const std::vector<std::string> kFiveNodes = {"n1", "n2", "n3", "n4", "n5"};

Ring MakeRing(std::vector<std::string> nodes, uint32_t vnodes = kDefaultVnodesPerNode,
              uint32_t n = 3) {
  absl::StatusOr<Ring> ring = Ring::Create(std::move(nodes), vnodes, n);
  EXPECT_TRUE(ring.ok()) << ring.status();
  return *std::move(ring);
}

// Fails unless every count is within ±tolerance of the mean of `counts`.
void ExpectBalanced(const std::map<std::string, uint64_t>& counts, size_t nodes, double tolerance) {
  ASSERT_EQ(counts.size(), nodes);
  uint64_t total = 0;
  for (const auto& [node, count] : counts) total += count;
  const double mean = static_cast<double>(total) / nodes;
  for (const auto& [node, count] : counts) {
    EXPECT_GE(count, mean * (1 - tolerance)) << node << " of mean " << mean;
    EXPECT_LE(count, mean * (1 + tolerance)) << node << " of mean " << mean;
  }
}

// The hash ranges of the partitions tile the 64-bit space in order, and
// every key's hash lies in its partition's (the segment index relies on it).
TEST(RingTest, HashRangesTileTheSpaceAndHoldTheirKeys) {
  for (uint32_t vnodes : {1u, 7u, 64u}) {
    absl::StatusOr<Ring> ring = Ring::Create({"n1", "n2", "n3"}, vnodes, 3);
    ASSERT_TRUE(ring.ok());
    EXPECT_EQ(ring->HashRangeOf(0).first, 0u);
    EXPECT_EQ(ring->HashRangeOf(ring->partition_count() - 1).second, UINT64_MAX);
    for (uint32_t p = 0; p + 1 < ring->partition_count(); ++p) {
      EXPECT_EQ(ring->HashRangeOf(p).second + 1, ring->HashRangeOf(p + 1).first) << p;
    }
    for (int i = 0; i < 5000; ++i) {
      const std::string key = absl::StrCat("k", i);
      const auto [first, last] = ring->HashRangeOf(ring->PartitionOf(key));
      EXPECT_GE(StableHash(key), first) << key;
      EXPECT_LE(StableHash(key), last) << key;
    }
  }
}

TEST(RingTest, EveryNodeOwnsExactlyItsVnodesPartitions) {
  const Ring ring = MakeRing(kFiveNodes);
  ASSERT_EQ(ring.partition_count(), 5 * kDefaultVnodesPerNode);
  std::map<std::string, uint64_t> owned;
  for (uint32_t p = 0; p < ring.partition_count(); ++p) ++owned[ring.Owner(p)];
  for (const std::string& node : kFiveNodes) EXPECT_EQ(owned[node], kDefaultVnodesPerNode) << node;
}

TEST(RingTest, RandomKeysSpreadWithinTwentyPercentOfTheMean) {
  SCOPED_TRACE(absl::StrCat("seed=", kSeed));
  const Ring ring = MakeRing(kFiveNodes);
  std::mt19937_64 rng(kSeed);
  std::map<std::string, uint64_t> keys;
  for (int i = 0; i < 200'000; ++i) {
    const std::string key = absl::StrCat("user/", rng());
    ++keys[ring.Owner(ring.PartitionOf(key))];
  }
  ExpectBalanced(keys, kFiveNodes.size(), 0.20);
}

TEST(RingTest, HomeReplicaLoadWithinTwentyPercentOfTheMean) {
  const Ring ring = MakeRing(kFiveNodes);
  std::map<std::string, uint64_t> load;
  for (uint32_t p = 0; p < ring.partition_count(); ++p) {
    for (const std::string& node : ring.ForPartition(p).home) ++load[node];
  }
  ExpectBalanced(load, kFiveNodes.size(), 0.20);
}

TEST(RingTest, OwnerIsTheFirstHomeReplica) {
  const Ring ring = MakeRing(kFiveNodes);
  for (uint32_t p = 0; p < ring.partition_count(); ++p) {
    EXPECT_EQ(ring.ForPartition(p).home.front(), ring.Owner(p)) << "partition " << p;
  }
}

TEST(RingTest, HomeHasNDistinctNodesAndFallbacksCompleteAPermutation) {
  for (uint32_t n = 1; n <= kFiveNodes.size(); ++n) {
    const Ring ring = MakeRing(kFiveNodes, kDefaultVnodesPerNode, n);
    for (uint32_t p = 0; p < ring.partition_count(); ++p) {
      const PreferenceList& list = ring.ForPartition(p);
      ASSERT_EQ(list.home.size(), n) << "partition " << p;
      EXPECT_EQ(std::set<std::string>(list.home.begin(), list.home.end()).size(), n);
      std::vector<std::string> all = list.home;
      all.insert(all.end(), list.fallbacks.begin(), list.fallbacks.end());
      EXPECT_TRUE(std::is_permutation(all.begin(), all.end(), kFiveNodes.begin(), kFiveNodes.end()))
          << "partition " << p << " n=" << n;
    }
  }
}

TEST(RingTest, ForKeyAndIsHomeAgreeWithThePartition) {
  const Ring ring = MakeRing(kFiveNodes);
  for (int i = 0; i < 100; ++i) {
    const std::string key = absl::StrCat("k", i);
    const PreferenceList& list = ring.ForPartition(ring.PartitionOf(key));
    EXPECT_EQ(ring.ForKey(key).home, list.home);
    for (const std::string& node : list.home) EXPECT_TRUE(ring.IsHome(key, node));
    for (const std::string& node : list.fallbacks) EXPECT_FALSE(ring.IsHome(key, node));
  }
}

TEST(RingTest, SameRingWhateverOrderTheNodesAreGivenIn) {
  const Ring reference = MakeRing(kFiveNodes);
  std::vector<std::string> nodes = kFiveNodes;
  std::mt19937_64 rng(kSeed);
  for (int round = 0; round < 10; ++round) {
    std::shuffle(nodes.begin(), nodes.end(), rng);
    const Ring ring = MakeRing(nodes);
    ASSERT_EQ(ring.partition_count(), reference.partition_count());
    for (uint32_t p = 0; p < ring.partition_count(); ++p) {
      ASSERT_EQ(ring.ForPartition(p).home, reference.ForPartition(p).home) << p;
      ASSERT_EQ(ring.ForPartition(p).fallbacks, reference.ForPartition(p).fallbacks) << p;
    }
  }
}

TEST(RingTest, PartitionOfAKeyIsPinned) {
  // The placement of existing data depends on these; a change moves keys.
  const Ring ring = MakeRing(kFiveNodes);
  EXPECT_EQ(ring.PartitionOf("a"), 262u);
  EXPECT_EQ(ring.PartitionOf("user/42"), 290u);
  EXPECT_EQ(ring.ForKey("user/42").home, (std::vector<std::string>{"n2", "n5", "n1"}));
}

TEST(StableHashTest, MatchesPinnedXxHash64Values) {
  // xxHash64 with seed 0; the first three are the reference test vectors.
  EXPECT_EQ(StableHash(""), 0xEF46DB3751D8E999ull);
  EXPECT_EQ(StableHash("a"), 0xD24EC4F1A98C6E5Bull);
  EXPECT_EQ(StableHash("abc"), 0x44BC2CF5AD770999ull);
  EXPECT_EQ(StableHash("user/42"), 0xE89F2A24FC2BB767ull);
  EXPECT_EQ(StableHash(std::string("\0\xff", 2)), 0xE0D97D9A03131D7Dull);
}

TEST(RingCreateTest, RejectsNoNodes) {
  const absl::StatusOr<Ring> ring = Ring::Create({}, 64, 1);
  EXPECT_EQ(ring.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RingCreateTest, RejectsADuplicateNode) {
  const absl::StatusOr<Ring> ring = Ring::Create({"n1", "n2", "n1"}, 64, 2);
  EXPECT_EQ(ring.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RingCreateTest, RejectsZeroVnodes) {
  const absl::StatusOr<Ring> ring = Ring::Create(kFiveNodes, 0, 3);
  EXPECT_EQ(ring.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RingCreateTest, RejectsReplicationFactorOutsideOneToNodes) {
  for (uint32_t n : {0u, 6u}) {
    const absl::StatusOr<Ring> ring = Ring::Create(kFiveNodes, 64, n);
    EXPECT_EQ(ring.status().code(), absl::StatusCode::kInvalidArgument) << "n=" << n;
    EXPECT_THAT(std::string(ring.status().message()), HasSubstr(absl::StrCat("N=", n)))
        << "n=" << n;
  }
}

TEST(RingCreateTest, AcceptsASingleNode) {
  const Ring ring = MakeRing({"solo"}, 4, 1);
  EXPECT_EQ(ring.partition_count(), 4u);
  EXPECT_EQ(ring.ForKey("anything").home, std::vector<std::string>{"solo"});
  EXPECT_TRUE(ring.ForKey("anything").fallbacks.empty());
}

}  // namespace
}  // namespace quorumkv
