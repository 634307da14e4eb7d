// Anti-entropy rounds (replication/anti_entropy.h) between ReplicaNodes on
// the test network: replicas that missed writes catch up without a read,
// both ways, and the work follows the differences.
#include "replication/anti_entropy.h"

#include <gtest/gtest.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "replication/exchange_answer.h"
#include "replication/hlc.h"
#include "tests/unit/replication/test_cluster.h"

namespace quorumkv {
namespace {

using test_support::FakeNetwork;
using test_support::kAskedRoundsOnly;
using test_support::RunAntiEntropyRound;
using test_support::StoreAt;
using test_support::TestCluster;
using test_support::WrittenAs;

TEST(AntiEntropyTest, AReplicaThatMissedWritesCatchesUpAndGivesBackWhatOnlyItHad) {
  TestCluster c(3, kAskedRoundsOnly);
  for (int i = 0; i < 300; ++i) {
    const std::string key = absl::StrCat("k", i);
    for (const char* id : {"n1", "n2"}) StoreAt(c, id, key, WrittenAs("n1.1", i + 1, "v"));
  }
  StoreAt(c, "n3", "only-n3", WrittenAs("n3.1", 1, "mine"));

  RunAntiEntropyRound(c, "n3", c.node("n3").anti_entropy().RequestRound(std::nullopt));

  const AntiEntropyStats stats = c.node("n3").anti_entropy().stats();
  EXPECT_TRUE(stats.complete) << stats.last_error;
  EXPECT_EQ(stats.exchanges_failed, 0u);
  // With n1: its 300 keys, and only-n3; with n2 after that: only-n3.
  EXPECT_EQ(stats.keys_differing, 300u + 1 + 1);
  for (int i = 0; i < 300; ++i) {
    EXPECT_EQ(c.Stored("n3", absl::StrCat("k", i)), WrittenAs("n1.1", i + 1, "v")) << i;
  }
  for (const char* id : {"n1", "n2"}) {
    EXPECT_EQ(c.Stored(id, "only-n3"), WrittenAs("n3.1", 1, "mine")) << id;
  }
  for (uint32_t p = 0; p < c.node("n1").ring().partition_count(); ++p) {
    EXPECT_EQ(c.node("n1").trees().Root(p), c.node("n3").trees().Root(p)) << p;
  }
}

TEST(AntiEntropyTest, AgreeingReplicasCompareRootsOnly) {
  TestCluster c(3, kAskedRoundsOnly);
  for (int i = 0; i < 500; ++i) {
    for (const std::string& id : c.ids()) {
      StoreAt(c, id, absl::StrCat("k", i), WrittenAs("n1.1", i + 1, "v"));
    }
  }
  RunAntiEntropyRound(c, "n1", c.node("n1").anti_entropy().RequestRound(std::nullopt));
  const AntiEntropyStats stats = c.node("n1").anti_entropy().stats();
  EXPECT_TRUE(stats.complete) << stats.last_error;
  EXPECT_GT(stats.exchanges_total, 0u);
  EXPECT_EQ(stats.hashes_compared, stats.exchanges_total);  // one root each
  EXPECT_EQ(stats.keys_differing, 0u);
}

TEST(AntiEntropyTest, TheWorkFollowsTheDifferencesNotTheKeys) {
  TestCluster c(3, kAskedRoundsOnly);
  for (int i = 0; i < 3000; ++i) {
    for (const std::string& id : c.ids()) {
      StoreAt(c, id, absl::StrCat("k", i), WrittenAs("n1.1", i + 1, "v"));
    }
  }
  for (int i = 0; i < 3; ++i)
    StoreAt(c, "n2", absl::StrCat("new", i), WrittenAs("n2.1", i + 1, "x"));
  RunAntiEntropyRound(c, "n1", c.node("n1").anti_entropy().RequestRound(std::nullopt));
  const AntiEntropyStats stats = c.node("n1").anti_entropy().stats();
  EXPECT_TRUE(stats.complete) << stats.last_error;
  // Each new key with n2, and with n3 if n1 compares with n3 after n2 in
  // the key's partition (N = 3: n1 is home of every key).
  EXPECT_GE(stats.keys_differing, 3u);
  EXPECT_LE(stats.keys_differing, 6u);
  // An agreeing partition costs its root; a differing key at most 32
  // level-1 hashes, 32 segment hashes and its segment's objects: not the
  // 3000 keys.
  EXPECT_LT(stats.bytes_received, 2 * stats.exchanges_total * 12 + 6 * 1000)
      << stats.bytes_received;
  for (int i = 0; i < 3; ++i) {
    const std::string key = absl::StrCat("new", i);
    EXPECT_TRUE(c.Stored("n1", key).has_value()) << key;
  }
}

// The asker sends its root; an agreeing peer answers with its root alone.
// A write landing on the asker meanwhile must not fail the exchange.
TEST(AntiEntropyTest, AWriteLandingWhileTheRootsAreComparedFailsNoExchange) {
  TestCluster c(3, kAskedRoundsOnly);
  for (const std::string& id : c.ids()) StoreAt(c, id, "k", WrittenAs("n1.1", 1, "v"));
  const uint64_t round = c.node("n1").anti_entropy().RequestRound(std::nullopt);
  c.node("n1").AntiEntropyTick();  // the first exchanges send their roots
  ASSERT_FALSE(c.net()
                   .Queued([](const FakeNetwork::Call& call) { return call.kind == "exchange"; })
                   .empty());
  // A write in every partition of n1 before the answers come back.
  std::set<uint32_t> changed;
  const Ring& ring = c.node("n1").ring();
  for (int i = 0; changed.size() < ring.partition_count() && i < 100'000; ++i) {
    const std::string key = absl::StrCat("late", i);
    if (changed.insert(ring.PartitionOf(key)).second) {
      StoreAt(c, "n1", key, WrittenAs("n1.1", 100 + i, "late"));
    }
  }
  RunAntiEntropyRound(c, "n1", round);
  const AntiEntropyStats stats = c.node("n1").anti_entropy().stats();
  EXPECT_EQ(stats.exchanges_failed, 0u) << stats.last_error;
  EXPECT_TRUE(stats.complete);
}

TEST(AntiEntropyTest, ARoundOfOnePartitionIsNotACompleteRoundOfTheNode) {
  TestCluster c(3, kAskedRoundsOnly);
  RunAntiEntropyRound(c, "n1", c.node("n1").anti_entropy().RequestRound(7));
  AntiEntropyStats stats = c.node("n1").anti_entropy().stats();
  EXPECT_TRUE(stats.complete);
  EXPECT_EQ(stats.exchanges_total, 2u);  // partition 7 with n2 and n3
  EXPECT_EQ(stats.last_complete_round, absl::InfinitePast());
  RunAntiEntropyRound(c, "n1", c.node("n1").anti_entropy().RequestRound(std::nullopt));
  stats = c.node("n1").anti_entropy().stats();
  EXPECT_NE(stats.last_complete_round, absl::InfinitePast());
}

TEST(AntiEntropyTest, ARoundSkipsAPeerThatIsDownAndIsIncomplete) {
  TestCluster c(3, kAskedRoundsOnly);
  StoreAt(c, "n1", "k", WrittenAs("n1.1", 1, "v"));
  c.net().SetHealth("n2", FakeNetwork::Health::kDown);
  for (int i = 0; i < 2000; ++i) {  // long enough for the detector to call n2 down
    for (const std::string& n : c.ids()) c.clock(n).Advance(absl::Milliseconds(10));
    c.node("n1").Tick();
    c.net().DeliverAll();
  }
  RunAntiEntropyRound(c, "n1", c.node("n1").anti_entropy().RequestRound(std::nullopt));
  const AntiEntropyStats stats = c.node("n1").anti_entropy().stats();
  EXPECT_FALSE(stats.complete);
  EXPECT_GT(stats.exchanges_failed, 0u);
  EXPECT_NE(stats.last_error.find("n2"), std::string::npos) << stats.last_error;
  EXPECT_EQ(stats.last_complete_round, absl::InfinitePast());
}

TEST(AntiEntropyTest, AnExchangeForAPartitionThisNodeIsNotHomeOfIsRefused) {
  TestCluster c(4, kAskedRoundsOnly);
  const Ring& ring = c.node("n1").ring();
  for (uint32_t p = 0; p < ring.partition_count(); ++p) {
    const auto& home = ring.ForPartition(p).home;
    if (std::find(home.begin(), home.end(), "n1") != home.end()) continue;
    pb::ExchangeRequest request;
    request.set_partition(p);
    request.add_nodes(0);
    EXPECT_EQ(c.node("n1").HandleExchange(request).status().code(),
              absl::StatusCode::kFailedPrecondition);
    request.set_partition(ring.partition_count());
    EXPECT_EQ(c.node("n1").HandleExchange(request).status().code(),
              absl::StatusCode::kInvalidArgument);
    return;
  }
  FAIL() << "n1 is home of every partition";
}

// Asking while a round of the same scope waits joins it: the queue of asked
// rounds stays bounded however often kvctl repair runs.
TEST(AntiEntropyTest, AskingAgainJoinsTheRoundAlreadyAsked) {
  TestCluster c(3, kAskedRoundsOnly);
  AntiEntropy& ae = c.node("n1").anti_entropy();
  const uint64_t all = ae.RequestRound(std::nullopt);
  EXPECT_EQ(ae.RequestRound(std::nullopt), all);
  const uint64_t seven = ae.RequestRound(7);
  EXPECT_EQ(seven, all + 1);
  EXPECT_EQ(ae.RequestRound(7), seven);
  EXPECT_EQ(ae.RequestRound(std::nullopt), all);
  RunAntiEntropyRound(c, "n1", seven);
  EXPECT_EQ(ae.stats().rounds_finished, seven);
  EXPECT_EQ(ae.RequestRound(std::nullopt), seven + 1);  // a new one now
}

// Merges are paced by bytes as well as keys: 1 MB of objects at 100 KB/s
// take about ten seconds, however many keys per second are allowed.
TEST(AntiEntropyTest, MergesArePacedByBytesPerSecond) {
  TestCluster c(3,
                "anti_entropy_interval_ms: 0 anti_entropy_keys_per_second: 100000 "
                "anti_entropy_bytes_per_second: 100000");
  for (int i = 0; i < 20; ++i) {
    StoreAt(c, "n2", absl::StrCat("k", i), WrittenAs("n2.1", i + 1, std::string(50'000, 'x')));
  }
  const absl::Time start = c.clock("n1").Now();
  RunAntiEntropyRound(c, "n1", c.node("n1").anti_entropy().RequestRound(std::nullopt));
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(c.Stored("n1", absl::StrCat("k", i)).has_value()) << i;
  // The first second's bucket is full: 1 MB - 100 KB more at 100 KB/s.
  EXPECT_GE(c.clock("n1").Now() - start, absl::Seconds(8));
}

// A listing reply is a page of whole segments up to kExchangePageBytes:
// the asker merges it, then asks for the next page, all in the same round.
// Here every segment is larger than a page, so each page is one segment.
TEST(AntiEntropyTest, ListingsPastAPageGoOnInTheNextPageOfTheSameRound) {
  TestCluster c(
      3, absl::StrCat(kAskedRoundsOnly, " max_value_bytes: 100000 max_object_bytes: 100000"));
  // 560 kB of values, on n2 only, all in one ring partition; each value
  // over a page (kExchangePageBytes), so each segment fills a page.
  constexpr int kBigKeys = 8;
  constexpr size_t kValueBytes = 70'000;
  static_assert(kValueBytes > kExchangePageBytes);
  const Ring& ring = c.node("n1").ring();
  std::vector<std::string> keys;
  std::set<uint32_t> segments;
  for (int i = 0; keys.size() < kBigKeys && i < 1'000'000; ++i) {
    const std::string key = absl::StrCat("big", i);
    if (ring.PartitionOf(key) != ring.PartitionOf("big0")) continue;
    keys.push_back(key);
    segments.insert(MerkleTree::SegmentOf(key));
  }
  ASSERT_EQ(keys.size(), size_t{kBigKeys});
  for (size_t i = 0; i < keys.size(); ++i) {
    StoreAt(c, "n2", keys[i], WrittenAs("n2.1", i + 1, std::string(kValueBytes, 'x')));
  }
  RunAntiEntropyRound(c, "n1", c.node("n1").anti_entropy().RequestRound(std::nullopt));
  const AntiEntropyStats stats = c.node("n1").anti_entropy().stats();
  EXPECT_TRUE(stats.complete) << stats.last_error;
  for (const std::string& key : keys) EXPECT_TRUE(c.Stored("n1", key).has_value()) << key;
  // From n2 alone, one page per segment (n1 then lists its own to n3 the
  // same way).
  EXPECT_GE(stats.pages_listed, segments.size());
  // Every object came once.
  EXPECT_LT(stats.bytes_received, kBigKeys * (kValueBytes + 1'000) + kExchangePageBytes);
}

// Tombstone purge ----------------------------------------------------------

constexpr char kPurgeAfterAMinute[] =
    "anti_entropy_interval_ms: 0 anti_entropy_keys_per_second: 100000 "
    "tombstone_grace_ms: 60000 max_hint_age_ms: 10000";

// The delete, as dot (actor, counter) at `at`, of a key whose value was
// (actor, counter - 1).
Object DeletedAt(const std::string& actor, uint64_t counter, absl::Time at) {
  Object object;
  object.context.Add(Dot{actor, counter - 1});
  object.context.Add(Dot{actor, counter});
  object.siblings.push_back(Sibling{
      .dot = Dot{actor, counter}, .hlc = MakeHlc(absl::ToUnixMillis(at), 0), .tombstone = true});
  return object;
}

// Moves every clock on; then the nodes ping each other, so the failure
// detectors do not take the silence for the peers being down.
void AdvanceAll(TestCluster& c, absl::Duration by) {
  for (const std::string& n : c.ids()) c.clock(n).Advance(by);
  c.MeetPeers();
}

uint64_t RunRound(TestCluster& c, const std::string& id) {
  const uint64_t round = c.node(id).anti_entropy().RequestRound(std::nullopt);
  RunAntiEntropyRound(c, id, round);
  return c.node(id).anti_entropy().stats().tombstones_purged;
}

// Every node holds the tombstone of "gone", deleted now; then the grace
// passes. Returns the tombstone.
Object EveryHomeHoldsATombstonePastItsGrace(TestCluster& c) {
  const Object gone = DeletedAt("n1.1", 2, c.clock("n1").Now());
  for (const std::string& id : c.ids()) StoreAt(c, id, "gone", gone);
  AdvanceAll(c, absl::Seconds(61));
  return gone;
}

TEST(AntiEntropyTest, ATombstoneEveryHomeHoldsIsPurgedPastTheGraceAndNotSentBack) {
  TestCluster c(3, kPurgeAfterAMinute);
  const absl::Time deleted = c.clock("n1").Now();
  const Object gone = DeletedAt("n1.1", 2, deleted);
  const Object young = DeletedAt("n1.1", 4, deleted + absl::Seconds(50));
  for (const std::string& id : c.ids()) {
    StoreAt(c, id, "gone", gone);
    StoreAt(c, id, "young", young);
    StoreAt(c, id, "live", WrittenAs("n1.1", 9, "v"));
  }
  AdvanceAll(c, absl::Seconds(61));
  EXPECT_EQ(RunRound(c, "n1"), 1u);
  EXPECT_EQ(c.Stored("n1", "gone"), std::nullopt);
  EXPECT_EQ(c.Stored("n2", "gone"), gone);  // each purges in its own round
  EXPECT_EQ(c.Stored("n1", "young"), young);
  // n1 does not take it back from n2 and n3, which still hold it.
  EXPECT_EQ(RunRound(c, "n1"), 0u);
  EXPECT_EQ(c.Stored("n1", "gone"), std::nullopt);
  // n2 and n3 find n1 reporting it purged: they purge too, and do not send
  // it back to n1 (nor n3 to n2).
  EXPECT_EQ(RunRound(c, "n2"), 1u);
  EXPECT_EQ(RunRound(c, "n3"), 1u);
  EXPECT_EQ(RunRound(c, "n1"), 0u);
  for (const std::string& id : c.ids()) {
    EXPECT_EQ(c.Stored(id, "gone"), std::nullopt) << id;
    EXPECT_EQ(c.Stored(id, "young"), young) << id;
    EXPECT_TRUE(c.Stored(id, "live").has_value()) << id;
  }
  for (uint32_t p = 0; p < c.node("n1").ring().partition_count(); ++p) {
    EXPECT_EQ(c.node("n1").trees().Root(p), c.node("n3").trees().Root(p)) << p;
  }
}

// n3 missed the delete and still holds the value: the round gives it the
// tombstone before n1 purges its own, so n3 never serves the value again.
TEST(AntiEntropyTest, AHomeThatMissedTheDeleteGetsTheTombstoneBeforeItIsPurged) {
  TestCluster c(3, kPurgeAfterAMinute);
  const Object gone = DeletedAt("n1.1", 2, c.clock("n1").Now());
  for (const char* id : {"n1", "n2"}) StoreAt(c, id, "gone", gone);
  StoreAt(c, "n3", "gone", WrittenAs("n1.1", 1, "deleted value"));
  AdvanceAll(c, absl::Seconds(61));
  EXPECT_EQ(RunRound(c, "n1"), 1u);
  EXPECT_EQ(c.Stored("n1", "gone"), std::nullopt);
  EXPECT_EQ(c.Stored("n3", "gone"), gone);
}

TEST(AntiEntropyTest, NoTombstoneIsPurgedInARoundThatMissedAHome) {
  TestCluster c(3, kPurgeAfterAMinute);
  const Object gone = DeletedAt("n1.1", 2, c.clock("n1").Now());
  StoreAt(c, "n1", "gone", gone);
  StoreAt(c, "n3", "gone", gone);
  StoreAt(c, "n2", "gone", WrittenAs("n1.1", 1, "deleted value"));
  c.net().SetHealth("n2", FakeNetwork::Health::kDown);
  for (int i = 0; i < 7000; ++i) {  // past the grace, and n2 called down
    AdvanceAll(c, absl::Milliseconds(10));
    c.node("n1").Tick();
    c.net().DeliverAll();
  }
  EXPECT_EQ(RunRound(c, "n1"), 0u);
  EXPECT_FALSE(c.node("n1").anti_entropy().stats().complete);
  EXPECT_EQ(c.Stored("n1", "gone"), gone);
}

// A node forgets what it purged when it restarts; a peer that still holds
// the tombstone sends it back once (it is stored, and purged again), but a
// peer that reports it purged never does.
TEST(AntiEntropyTest, ARestartedNodeDoesNotTakeBackATombstoneItsPeersPurged) {
  TestCluster c(3, kPurgeAfterAMinute);
  EveryHomeHoldsATombstonePastItsGrace(c);
  ASSERT_EQ(RunRound(c, "n1"), 1u);
  ASSERT_EQ(RunRound(c, "n2"), 1u);
  ASSERT_EQ(RunRound(c, "n3"), 1u);
  c.Restart("n1", /*wipe=*/false);
  // A key n1 lacks in the same segment of the same partition: the
  // exchanges list that segment, with the peers' records of "gone".
  const Ring& ring = c.node("n1").ring();
  std::string neighbour;
  for (int i = 0; neighbour.empty() && i < 1'000'000; ++i) {
    const std::string key = absl::StrCat("x", i);
    if (MerkleTree::SegmentOf(key) == MerkleTree::SegmentOf("gone") &&
        ring.PartitionOf(key) == ring.PartitionOf("gone")) {
      neighbour = key;
    }
  }
  ASSERT_FALSE(neighbour.empty());
  for (const char* id : {"n2", "n3"}) StoreAt(c, id, neighbour, WrittenAs("n2.1", 1, "v"));
  AdvanceAll(c, absl::Seconds(1));
  RunRound(c, "n1");
  EXPECT_TRUE(c.Stored("n1", neighbour).has_value());
  for (const std::string& id : c.ids()) EXPECT_EQ(c.Stored(id, "gone"), std::nullopt) << id;
}

// A peer that lost the tombstone n1 purged (a restored copy of its disk)
// and holds the deleted value again: n1 sends it the tombstone back and
// takes nothing from it.
TEST(AntiEntropyTest, APeerHoldingWhatAPurgedTombstoneDeletedGetsTheTombstoneBack) {
  TestCluster c(3, kPurgeAfterAMinute);
  EveryHomeHoldsATombstonePastItsGrace(c);
  ASSERT_EQ(RunRound(c, "n1"), 1u);
  c.Restart("n2", /*wipe=*/true);
  StoreAt(c, "n2", "gone", WrittenAs("n1.1", 1, "deleted value"));
  c.MeetPeers();
  RunRound(c, "n1");
  EXPECT_EQ(c.Stored("n1", "gone"), std::nullopt);
  const std::optional<Object> n2 = c.Stored("n2", "gone");
  ASSERT_TRUE(n2.has_value());
  EXPECT_EQ(LiveSiblingCount(*n2), 0u) << "n2 serves the deleted value again";
}

}  // namespace
}  // namespace quorumkv
