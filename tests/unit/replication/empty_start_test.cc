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

TEST(EmptyStartCheckTest, APeersFirstAnswerCountsAndTheSettlementIsTakenOnce) {
  EmptyStartCheck check(true, {"n2", "n3"});
  check.OnPeerAnswer("n2", false);
  check.OnPeerAnswer("n2", true);  // it has seen this life hold data since
  EXPECT_TRUE(check.asking());
  EXPECT_FALSE(check.TakeSettled());
  check.OnPeerAnswer("n3", false);
  EXPECT_FALSE(check.TakeLoss());
  EXPECT_TRUE(check.TakeSettled());
  EXPECT_FALSE(check.TakeSettled());
}

TEST(PeersHoldingDataTest, RecordsEachActorOnceAndAnswersForOtherActorsOfANode) {
  PeersHoldingData peers({"n2.00000001"});
  EXPECT_TRUE(peers.HeldUnderAnotherActor("n2", "n2.00000002"));
  EXPECT_FALSE(peers.HeldUnderAnotherActor("n2", "n2.00000001"));
  EXPECT_FALSE(peers.HeldUnderAnotherActor("n3", "n3.00000001"));
  EXPECT_FALSE(peers.HeldUnderAnotherActor("n", "n.1")) << "n2's actors are not n's";
  peers.Saw("n2.00000001");
  peers.Saw("n3.00000001");
  peers.Saw("n3.00000001");
  EXPECT_THAT(peers.TakeUnrecorded(), ElementsAre("n3.00000001"));
  EXPECT_THAT(peers.TakeUnrecorded(), IsEmpty());
  peers.Unrecorded("n3.00000001");
  EXPECT_THAT(peers.TakeUnrecorded(), ElementsAre("n3.00000001"));
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

// Between a peer's "I saw you holding data" and the tick that marks every
// partition, the node must still say it may lack writes: else a read in
// that moment counts its empty replica toward a strict overlap (kvsim seed
// 523003313862 caught it: a strict read missed an acknowledged write).
TEST(EmptyStartTest, AWipedNodeMayLackWritesFromTheLossToItsMarking) {
  TestCluster cluster(3);
  ASSERT_TRUE(cluster.Put("n1", PutRequest("k", "v", "", 3)).status.ok());
  PingRound(cluster);
  cluster.Restart("n3", /*wipe=*/true);
  cluster.clock("n3").Advance(absl::Seconds(1));
  cluster.node("n3").Tick();   // asks its peers
  cluster.net().DeliverAll();  // they answer: a loss; no tick has marked it yet
  ASSERT_FALSE(EveryPartitionMarked(cluster, "n3"));
  pb::ReplicaReadRequest read;
  read.set_key("k");
  absl::StatusOr<pb::ReplicaReadResponse> reply = cluster.node("n3").HandleRead(read);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_TRUE(reply->may_lack_writes());
  cluster.node("n3").Tick();  // marks every partition
  EXPECT_TRUE(EveryPartitionMarked(cluster, "n3"));
  EXPECT_TRUE(cluster.node("n3").HandleRead(read)->may_lack_writes());
}

TEST(EmptyStartTest, ANewClusterLearnsNobodyLostData) {
  TestCluster cluster(3);  // it met its peers
  for (const std::string& id : cluster.ids()) {
    EXPECT_FALSE(EveryPartitionMarked(cluster, id)) << id;
  }
  ASSERT_TRUE(cluster.Put("n1", PutRequest("k", "v", "", 3)).status.ok());
  EXPECT_TRUE(cluster.Get("n1", "k", 3).response.quorum().strict_overlap());
}

// A new cluster takes writes before its nodes have met: each node holds
// data before its peers answered whether they had seen it holding any. Found
// by review: a peer recorded the pinger holding data, then answered yes.
TEST(EmptyStartTest, ANewNodeThatTookWritesBeforeItsPeersAnsweredIsNotTakenForAWipedOne) {
  TestCluster cluster(3, "", /*meet_peers=*/false);
  ASSERT_TRUE(cluster.Put("n1", PutRequest("k", "v", "", 3)).status.ok());
  for (int round = 0; round < 3; ++round) PingRound(cluster);
  for (const std::string& id : cluster.ids()) {
    EXPECT_FALSE(EveryPartitionMarked(cluster, id)) << id;
  }
  EXPECT_TRUE(cluster.Get("n1", "k", 3).response.quorum().strict_overlap());
}

// A wiped node that restarts again before its peers answered must still
// learn it lost its data.
TEST(EmptyStartTest, ARestartBeforeThePeersAnsweredKeepsAsking) {
  TestCluster cluster(3);
  ASSERT_TRUE(cluster.Put("n1", PutRequest("k", "v", "", 3)).status.ok());
  PingRound(cluster);
  cluster.Restart("n3", /*wipe=*/true);
  cluster.Restart("n3", /*wipe=*/false);
  PingRound(cluster);
  EXPECT_TRUE(EveryPartitionMarked(cluster, "n3"));
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
