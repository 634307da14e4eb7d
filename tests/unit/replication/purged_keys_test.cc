// PurgedKeys: records kept for their time and up to their count, the
// latest record of a key kept whatever the order its older ones leave in.
#include "replication/purged_keys.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "replication/merkle_tree.h"
#include "replication/ring.h"
#include "tests/unit/test_support.h"

namespace quorumkv {
namespace {

using test_support::kStart;
using test_support::OneValue;

TEST(PurgedKeysTest, ARecordLastsItsTimeAndTheLatestOfAKeyWins) {
  PurgedKeys keys(absl::Minutes(10));
  keys.Add("k", OneValue("a.1", 1, "x"), kStart);
  keys.Add("k", OneValue("a.1", 2, "x"), kStart);  // the same moment: the newer wins
  EXPECT_EQ(keys.Find("k", kStart), OneValue("a.1", 2, "x"));
  keys.Add("k", OneValue("a.1", 3, "x"), kStart + absl::Minutes(5));
  EXPECT_EQ(keys.Find("k", kStart + absl::Minutes(11)), OneValue("a.1", 3, "x"));
  EXPECT_EQ(keys.Find("k", kStart + absl::Minutes(16)), std::nullopt);
  EXPECT_EQ(keys.size(), 0u);
}

TEST(PurgedKeysTest, TheOldestAreForgottenPastTheLimitButAReAddedKeyStays) {
  PurgedKeys keys(absl::Hours(1));
  keys.Add("again", OneValue("a.1", 1, "x"), kStart);
  for (size_t i = 0; i + 1 < PurgedKeys::kMaxRecords; ++i) {
    keys.Add(absl::StrCat("k", i), OneValue("a.1", 1, "x"), kStart);
  }
  keys.Add("again", OneValue("a.1", 2, "x"), kStart);  // evicts its own older entry
  EXPECT_EQ(keys.Find("again", kStart), OneValue("a.1", 2, "x"));
  keys.Add("one-more", OneValue("a.1", 1, "x"), kStart);  // evicts k0
  EXPECT_EQ(keys.Find("k0", kStart), std::nullopt);
  EXPECT_EQ(keys.Find("k1", kStart), OneValue("a.1", 1, "x"));
  EXPECT_LE(keys.size(), PurgedKeys::kMaxRecords);
}

TEST(PurgedKeysTest, InSegmentListsTheRecordsOfOneSegmentAndHashRange) {
  PurgedKeys keys(absl::Hours(1));
  for (int i = 0; i < 2000; ++i) keys.Add(absl::StrCat("k", i), OneValue("a.1", 1, "x"), kStart);
  const uint32_t segment = MerkleTree::SegmentOf("k7");
  size_t expected = 0;
  for (int i = 0; i < 2000; ++i) expected += MerkleTree::SegmentOf(absl::StrCat("k", i)) == segment;
  const auto listed = keys.InSegment(segment, 0, UINT64_MAX, kStart);
  EXPECT_EQ(listed.size(), expected);
  for (const auto& [key, object] : listed) EXPECT_EQ(MerkleTree::SegmentOf(key), segment) << key;
  EXPECT_EQ(keys.InSegment(segment, StableHash("k7"), StableHash("k7"), kStart).size(), 1u);
}

}  // namespace
}  // namespace quorumkv
