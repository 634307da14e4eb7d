// The replica protocol (replica_protocol.h) through a node over a
// hand-driven network (test_cluster.h): write batches answered write by
// write, through the write groups or not, and the batches that carry hints.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "replication/invariant.h"
#include "replication/logging.h"
#include "replication/object_codec.h"
#include "replication/replica_node.h"
#include "tests/unit/replication/test_cluster.h"

namespace quorumkv {
namespace {

using test_support::DeleteRequest;
using test_support::FakeNetwork;
using test_support::PutRequest;
using test_support::TestCluster;
using test_support::Values;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using ::testing::UnorderedElementsAre;

// A replica write of `object` (from n1's replica of `key`) to its home replicas.
pb::ReplicaWriteRequest WriteOf(TestCluster& cluster, const std::string& key) {
  pb::ReplicaWriteRequest write;
  write.set_key(key);
  write.set_from("n1");
  ToProto(*cluster.Stored("n1", key), write.mutable_object());
  return write;
}

// n1's writes of "a" and "b" (made while n2 and n3 were down) as a batch
// of three replica writes: a, one without a key, b.
pb::ReplicaWriteBatchRequest GoodBadGoodBatch(TestCluster& cluster) {
  cluster.net().SetHealth("n2", FakeNetwork::Health::kDown);
  cluster.net().SetHealth("n3", FakeNetwork::Health::kDown);
  EXPECT_TRUE(cluster.Put("n1", PutRequest("a", "va", "", 1)).status.ok());
  EXPECT_TRUE(cluster.Put("n1", PutRequest("b", "vb", "", 1)).status.ok());
  pb::ReplicaWriteBatchRequest batch;
  *batch.add_writes() = WriteOf(cluster, "a");
  pb::ReplicaWriteRequest bad = WriteOf(cluster, "b");
  bad.set_key("");
  *batch.add_writes() = bad;
  *batch.add_writes() = WriteOf(cluster, "b");
  return batch;
}

// n2 answered GoodBadGoodBatch write by write and stored the good ones.
void ExpectGoodBadGoodApplied(TestCluster& cluster, const pb::ReplicaWriteBatchResponse& reply) {
  ASSERT_EQ(reply.results_size(), 3);
  EXPECT_EQ(reply.results(0).code(), 0);
  EXPECT_EQ(reply.results(1).code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(reply.results(2).code(), 0);
  EXPECT_EQ(cluster.Stored("n2", "a"), cluster.Stored("n1", "a"));
  EXPECT_EQ(cluster.Stored("n2", "b"), cluster.Stored("n1", "b"));
}

TEST(ReplicaNodeTest, AWriteBatchAppliesEachWriteAndAnswersEachInOrder) {
  TestCluster cluster(3);
  const pb::ReplicaWriteBatchRequest batch = GoodBadGoodBatch(cluster);
  ExpectGoodBadGoodApplied(cluster, cluster.node("n2").HandleWriteBatch(batch));
}

// MergeWriteBatch's reply, which (with no run_blocking) comes before it
// returns.
pb::ReplicaWriteBatchResponse MergeNow(ReplicaNode& node,
                                       const pb::ReplicaWriteBatchRequest& batch) {
  std::optional<pb::ReplicaWriteBatchResponse> reply;
  node.MergeWriteBatch(batch, [&reply](pb::ReplicaWriteBatchResponse r) {
    EXPECT_FALSE(reply.has_value()) << "answered twice";
    reply = std::move(r);
  });
  EXPECT_TRUE(reply.has_value()) << "not answered";
  return reply.value_or(pb::ReplicaWriteBatchResponse());
}

TEST(ReplicaNodeTest, AWriteBatchMergedInTheWriteGroupsAnswersEachWriteInOrder) {
  TestCluster cluster(3);
  const pb::ReplicaWriteBatchRequest batch = GoodBadGoodBatch(cluster);
  ASSERT_FALSE(ReplicaNode::CarriesHints(batch));
  ExpectGoodBadGoodApplied(cluster, MergeNow(cluster.node("n2"), batch));
}

TEST(ReplicaNodeTest, AWriteBatchWithNothingToMergeIsAnsweredAtOnce) {
  TestCluster cluster(3);
  cluster.net().SetHealth("n2", FakeNetwork::Health::kDown);
  cluster.net().SetHealth("n3", FakeNetwork::Health::kDown);
  ASSERT_TRUE(cluster.Put("n1", PutRequest("a", "va", "", 1)).status.ok());
  pb::ReplicaWriteBatchRequest batch;
  pb::ReplicaWriteRequest bad = WriteOf(cluster, "a");
  bad.set_key("");
  *batch.add_writes() = bad;
  const pb::ReplicaWriteBatchResponse reply = MergeNow(cluster.node("n2"), batch);
  ASSERT_EQ(reply.results_size(), 1);
  EXPECT_EQ(reply.results(0).code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
}

// The server routes batches with hints elsewhere (CarriesHints): one that
// reaches the write groups is an invariant failure, here in report mode.
TEST(ReplicaNodeTest, AWriteForAHintIsNotMergedInTheWriteGroups) {
  const InvariantMode saved = GetInvariantMode();
  SetInvariantMode(InvariantMode::kReport);
  TestCluster cluster(4);
  cluster.net().SetHealth("n2", FakeNetwork::Health::kDown);
  cluster.net().SetHealth("n3", FakeNetwork::Health::kDown);
  cluster.net().SetHealth("n4", FakeNetwork::Health::kDown);
  ASSERT_TRUE(cluster.Put("n1", PutRequest("a", "va", "", 1)).status.ok());
  pb::ReplicaWriteBatchRequest batch;
  *batch.add_writes() = WriteOf(cluster, "a");
  batch.mutable_writes(0)->set_hinted_for("n2");
  ASSERT_TRUE(ReplicaNode::CarriesHints(batch));
  const uint64_t failures = InvariantViolations();
  const pb::ReplicaWriteBatchResponse reply = MergeNow(cluster.node("n2"), batch);
  SetInvariantMode(saved);
  ASSERT_EQ(reply.results_size(), 1);
  EXPECT_EQ(reply.results(0).code(), static_cast<int>(absl::StatusCode::kInternal));
  EXPECT_EQ(InvariantViolations(), failures + 1);
}

// A fallback does not serve a hint that handoff would never deliver (past
// max_hint_age): it drops it, counted, and answers not found.
TEST(ReplicaNodeTest, AFallbackDropsAHintPastItsAgeInsteadOfServingIt) {
  TestCluster cluster(4, "max_hint_age_ms: 60000");
  const Ring& ring = cluster.node("n4").ring();
  std::string key;
  for (int i = 0; key.empty() && i < 10'000; ++i) {
    const std::string k = absl::StrCat("k", i);
    if (!ring.IsHome(k, "n4")) key = k;
  }
  const std::string home = ring.ForPartition(ring.PartitionOf(key)).home[0];
  Hints* hints = cluster.store("n4").hints();
  ASSERT_TRUE(hints
                  ->Update(home, key, HintLimits(), cluster.clock("n4").Now() - absl::Minutes(2),
                           [](const std::optional<Object>&) -> absl::StatusOr<Object> {
                             return test_support::OneValue("n1.1", 1, "old");
                           })
                  .ok());
  pb::ReplicaReadRequest read;
  read.set_key(key);
  read.set_hinted_for(home);
  absl::StatusOr<pb::ReplicaReadResponse> reply = cluster.node("n4").HandleRead(read);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_FALSE(reply->found());
  EXPECT_FALSE(hints->Read(home, key)->has_value());
  EXPECT_EQ(cluster.node("n4").handoff_stats().expired, 1u);
}

TEST(ReplicaNodeTest, AReadBatchStopsAtItsReplyBudgetAndMarksTheRestNotRun) {
  TestCluster cluster(3, "max_value_bytes: 1000 max_object_bytes: 1000");
  const std::string big(600, 'x');  // two of them pass the budget (1000)
  for (const char* key : {"a", "b", "c"}) {
    ASSERT_TRUE(cluster.Put("n1", PutRequest(key, big, "", 3)).status.ok());
  }
  pb::ReplicaReadBatchRequest batch;
  for (const char* key : {"a", "b", "c"}) batch.add_reads()->set_key(key);
  const pb::ReplicaReadBatchResponse reply = cluster.node("n2").HandleReadBatch(batch);
  ASSERT_EQ(reply.results_size(), 3);
  EXPECT_TRUE(reply.results(0).response().found());
  EXPECT_TRUE(reply.results(1).response().found());
  EXPECT_FALSE(reply.results(1).not_run());
  EXPECT_TRUE(reply.results(2).not_run());
}

TEST(ReplicaNodeTest, ConcurrentPutsAtOneCoordinatorAllSurvive) {
  TestCluster cluster(3);
  std::vector<std::shared_ptr<test_support::PutOutcome>> puts;
  for (int i = 0; i < 5; ++i) {
    puts.push_back(cluster.StartPut("n1", PutRequest("k", absl::StrCat("v", i), "", 2)));
  }
  cluster.net().DeliverAll();
  for (const auto& put : puts) ASSERT_TRUE(put->done && put->status.ok()) << put->status;
  EXPECT_EQ(cluster.Stored("n1", "k")->siblings.size(), 5u) << "blind puts are concurrent";
}

}  // namespace
}  // namespace quorumkv
