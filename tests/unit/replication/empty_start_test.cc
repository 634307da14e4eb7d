// A node that starts on an empty data directory: new to the cluster, or a
// wiped disk? Its peers tell (replication/empty_start.h).
#include "replication/empty_start.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/replication/test_cluster.h"

namespace quorumkv {
namespace {

using test_support::FakeNetwork;
using test_support::PutRequest;
using test_support::TestCluster;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(EmptyStartCheckTest, ANodeThatDidNotStartEmptyNeverAsks) {
  EmptyStartCheck check(/*started_empty=*/false, {"n2", "n3"});
  EXPECT_FALSE(check.asking());
  check.OnPeerAnswer("n2", true);
  EXPECT_FALSE(check.TakeLoss());
}

TEST(EmptyStartCheckTest, ANoFromEveryPeerMakesANewNode) {
  EmptyStartCheck check(true, {"n2", "n3"});
  EXPECT_TRUE(check.asking());
  check.OnPeerAnswer("n2", false);
  check.OnPeerAnswer("n2", false);
  EXPECT_TRUE(check.asking()) << "n3 has not answered";
  check.OnPeerAnswer("n3", false);
  EXPECT_FALSE(check.asking());
  EXPECT_FALSE(check.TakeLoss());
}

TEST(EmptyStartCheckTest, OneYesIsALossTakenOnce) {
  EmptyStartCheck check(true, {"n2", "n3"});
  check.OnPeerAnswer("n3", true);
  EXPECT_FALSE(check.asking());
  EXPECT_TRUE(check.TakeLoss());
  EXPECT_FALSE(check.TakeLoss());
}

TEST(PeersHoldingDataTest, RecordsEachPeerOnce) {
  PeersHoldingData peers({"n2"});
  EXPECT_TRUE(peers.Seen("n2"));
  peers.Saw("n2");
  peers.Saw("n3");
  peers.Saw("n3");
  EXPECT_TRUE(peers.Seen("n3"));
  EXPECT_THAT(peers.TakeUnrecorded(), ElementsAre("n3"));
  EXPECT_THAT(peers.TakeUnrecorded(), IsEmpty());
}

// Runs a round of pings from every node, and records what they saw.
void PingRound(TestCluster& cluster) {
  for (const std::string& id : cluster.ids()) {
    cluster.clock(id).Advance(absl::Seconds(1));
    cluster.node(id).Tick();
  }
  cluster.net().DeliverAll();
  for (const std::string& id : cluster.ids()) cluster.node(id).Tick();  // records, settles
  cluster.net().DeliverAll();
}

bool EveryPartitionMarked(TestCluster& cluster, const std::string& id) {
  return cluster.store(id).MarkedForRepair(kEveryPartition);
}

// n3's disk is replaced: it comes back empty, under a fresh actor. Its
// peers saw it holding data, so it learns it lost data, marks every
// partition, and its answers stop counting toward a read's strict overlap.
TEST(EmptyStartTest, ANodeWhoseDiskWasWipedLearnsItFromItsPeers) {
  TestCluster cluster(3);
  ASSERT_TRUE(cluster.Put("n1", PutRequest("k", "v", "", 3)).status.ok());
  PingRound(cluster);
  const std::string before = cluster.store("n3").actor();
  cluster.Restart("n3", /*wipe=*/true);
  EXPECT_NE(cluster.store("n3").actor(), before);
  // Until its peers answer, it does not know: it may lack writes.
  EXPECT_FALSE(cluster.Get("n1", "k", 3).response.quorum().strict_overlap());
  PingRound(cluster);
  EXPECT_TRUE(EveryPartitionMarked(cluster, "n3"));
  EXPECT_FALSE(cluster.Get("n1", "k", 3).response.quorum().strict_overlap());
}

TEST(EmptyStartTest, ANewClusterLearnsNobodyLostData) {
  TestCluster cluster(3);  // it met its peers
  for (const std::string& id : cluster.ids()) {
    EXPECT_FALSE(EveryPartitionMarked(cluster, id)) << id;
  }
  ASSERT_TRUE(cluster.Put("n1", PutRequest("k", "v", "", 3)).status.ok());
  EXPECT_TRUE(cluster.Get("n1", "k", 3).response.quorum().strict_overlap());
}

TEST(EmptyStartTest, ARestartThatKeptItsDataAsksNothing) {
  TestCluster cluster(3);
  ASSERT_TRUE(cluster.Put("n1", PutRequest("k", "v", "", 3)).status.ok());
  PingRound(cluster);
  cluster.Restart("n3", /*wipe=*/false);
  EXPECT_TRUE(cluster.Get("n1", "k", 3).response.quorum().strict_overlap());
  PingRound(cluster);
  EXPECT_FALSE(EveryPartitionMarked(cluster, "n3"));
}

}  // namespace
}  // namespace quorumkv
