// ReplicaNode end to end over a hand-driven network (test_cluster.h): the
// put and get paths, siblings, forwarding, limits, read repair, deletes.
// The replica protocol's batches are in replica_protocol_test.cc.
#include "replication/replica_node.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "replication/invariant.h"
#include "replication/logging.h"
#include "replication/object_codec.h"
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

const std::vector<std::string> kAll = {"n1", "n2", "n3"};

TEST(ReplicaNodeTest, PutWithWTwoThenGetWithRTwoFindsTheValue) {
  TestCluster cluster(3);
  const auto put = cluster.Put("n1", PutRequest("k", "v1", "", 2));
  ASSERT_TRUE(put.status.ok()) << put.status;
  EXPECT_THAT(put.response.dot().actor(), StartsWith("n1."));
  const auto get = cluster.Get("n2", "k", 2);
  ASSERT_TRUE(get.status.ok()) << get.status;
  EXPECT_TRUE(get.response.found());
  EXPECT_THAT(Values(get.response), ElementsAre("v1"));
  for (const std::string& id : kAll) EXPECT_TRUE(cluster.Stored(id, "k").has_value()) << id;
}

TEST(ReplicaNodeTest, GetOfAMissingKeyIsOkAndNotFound) {
  TestCluster cluster(3);
  const auto get = cluster.Get("n1", "absent", 2);
  ASSERT_TRUE(get.status.ok()) << get.status;
  EXPECT_FALSE(get.response.found());
  EXPECT_EQ(get.response.siblings_size(), 0);
  EXPECT_EQ(get.response.context(), "");
}

TEST(ReplicaNodeTest, ConcurrentPutsWithSameContextAtDifferentCoordinatorsBothSurvive) {
  TestCluster cluster(3);
  ASSERT_TRUE(cluster.Put("n1", PutRequest("k", "v0")).status.ok());
  const std::string context = cluster.Get("n1", "k").response.context();
  const auto first = cluster.StartPut("n1", PutRequest("k", "v1", context));
  const auto second = cluster.StartPut("n2", PutRequest("k", "v2", context));
  cluster.net().DeliverAll();
  ASSERT_TRUE(first->status.ok()) << first->status;
  ASSERT_TRUE(second->status.ok()) << second->status;
  const auto get = cluster.Get("n3", "k", 3);
  EXPECT_THAT(Values(get.response), ElementsAre("v1", "v2"));
}

TEST(ReplicaNodeTest, BlindPutOnAnExistingKeyKeepsTheOldValueAsASibling) {
  TestCluster cluster(3);
  ASSERT_TRUE(cluster.Put("n1", PutRequest("k", "old")).status.ok());
  ASSERT_TRUE(cluster.Put("n1", PutRequest("k", "new")).status.ok());
  EXPECT_THAT(Values(cluster.Get("n2", "k").response), ElementsAre("new", "old"));
}

TEST(ReplicaNodeTest, APutRetriedThroughAnotherCoordinatorReadsAsOneWrite) {
  TestCluster cluster(3);
  ASSERT_TRUE(cluster.Put("n1", PutRequest("k", "v0")).status.ok());
  const std::string context = cluster.Get("n1", "k").response.context();
  pb::PutRequest retried = PutRequest("k", "v1", context);
  retried.set_idempotency_key("order-17");
  ASSERT_TRUE(cluster.Put("n1", retried).status.ok());
  ASSERT_TRUE(cluster.Put("n2", retried).status.ok()) << "the retry, through n2";
  const auto get = cluster.Get("n3", "k", 3);
  ASSERT_TRUE(get.status.ok());
  EXPECT_THAT(Values(get.response), ElementsAre("v1")) << "no second sibling";
  EXPECT_EQ(get.response.siblings(0).idempotency_key(), "order-17");
  // Both copies are stored; the read's context covers both, so a write
  // with it replaces them all.
  EXPECT_EQ(cluster.Stored("n3", "k")->siblings.size(), 2u);
  ASSERT_TRUE(cluster.Put("n3", PutRequest("k", "v2", get.response.context())).status.ok());
  EXPECT_EQ(cluster.Stored("n3", "k")->siblings.size(), 1u);
  // Without the key the same two puts are two writes: both kept.
  pb::PutRequest unnamed = PutRequest("j", "v1");
  ASSERT_TRUE(cluster.Put("n1", unnamed).status.ok());
  ASSERT_TRUE(cluster.Put("n2", unnamed).status.ok());
  EXPECT_THAT(Values(cluster.Get("n3", "j", 3).response), ElementsAre("v1", "v1"));
}

TEST(ReplicaNodeTest, PutWithTheMergedContextResolvesToOneValue) {
  TestCluster cluster(3);
  ASSERT_TRUE(cluster.Put("n1", PutRequest("k", "a")).status.ok());
  ASSERT_TRUE(cluster.Put("n2", PutRequest("k", "b")).status.ok());
  const auto conflict = cluster.Get("n3", "k", 3);
  ASSERT_EQ(conflict.response.siblings_size(), 2);
  ASSERT_TRUE(cluster.Put("n3", PutRequest("k", "ab", conflict.response.context())).status.ok());
  EXPECT_THAT(Values(cluster.Get("n1", "k", 3).response), ElementsAre("ab"));
}

TEST(ReplicaNodeTest, PutReplyCarriesItsDotAndAContextCoveringIt) {
  TestCluster cluster(3);
  const auto put = cluster.Put("n1", PutRequest("k", "v"));
  const auto get = cluster.Get("n1", "k");
  ASSERT_EQ(get.response.siblings_size(), 1);
  EXPECT_EQ(get.response.siblings(0).dot().SerializeAsString(),
            put.response.dot().SerializeAsString());
  EXPECT_EQ(put.response.context(), get.response.context());
}

// A key of a 4-node N=3 cluster whose home replicas do not include `node`.
std::string KeyNotHomedAt(TestCluster& cluster, const std::string& node) {
  for (int i = 0;; ++i) {
    const std::string key = absl::StrCat("key", i);
    if (!cluster.node(node).ring().IsHome(key, node)) return key;
  }
}

TEST(ReplicaNodeTest, PutAtANonHomeNodeIsCoordinatedByAHomeReplica) {
  TestCluster cluster(4);
  const std::string key = KeyNotHomedAt(cluster, "n4");
  const std::vector<std::string> home = cluster.node("n4").ring().ForKey(key).home;
  const auto put = cluster.Put("n4", PutRequest(key, "v"));
  ASSERT_TRUE(put.status.ok()) << put.status;
  EXPECT_EQ(put.response.quorum().coordinator(), home.front());
  EXPECT_THAT(put.response.dot().actor(), StartsWith(home.front() + "."));
  EXPECT_FALSE(cluster.Stored("n4", key).has_value());
  EXPECT_EQ(cluster.store("n4").last_issued_counter(), 0u);  // n4 owns no dot of it
  for (const std::string& id : home) EXPECT_TRUE(cluster.Stored(id, key).has_value()) << id;
}

TEST(ReplicaNodeTest, ForwardedPutTriesTheNextHomeReplicaWhenOneIsDown) {
  TestCluster cluster(4);
  const std::string key = KeyNotHomedAt(cluster, "n4");
  const std::vector<std::string> home = cluster.node("n4").ring().ForKey(key).home;
  cluster.net().SetHealth(home[0], FakeNetwork::Health::kDown);
  const auto put = cluster.Put("n4", PutRequest(key, "v"));
  ASSERT_TRUE(put.status.ok()) << put.status;
  EXPECT_EQ(put.response.quorum().coordinator(), home[1]);
}

struct InvalidPut {
  const char* name;
  pb::PutRequest request;
  const char* message;
};

void PrintTo(const InvalidPut& p, std::ostream* os) { *os << p.name; }

class InvalidPutTest : public ::testing::TestWithParam<InvalidPut> {};

TEST_P(InvalidPutTest, IsInvalidArgumentAndWritesNothing) {
  TestCluster cluster(3);
  const auto put = cluster.Put("n1", GetParam().request);
  EXPECT_EQ(put.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(put.status.message()), HasSubstr(GetParam().message));
  for (const std::string& id : kAll) {
    EXPECT_FALSE(cluster.Stored(id, GetParam().request.key()).has_value()) << id;
    EXPECT_EQ(cluster.store(id).last_issued_counter(), 0u) << id;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Limits, InvalidPutTest,
    ::testing::Values(
        InvalidPut{"KeyTooLong", PutRequest(std::string(1025, 'k'), "v"), "max_key_bytes=1024"},
        InvalidPut{"EmptyKey", PutRequest("", "v"), "key is empty"},
        InvalidPut{"ValueTooLarge", PutRequest("k", std::string((1 << 20) + 1, 'v')),
                   "over max_value_bytes=1048576"},
        InvalidPut{"WAboveN", PutRequest("k", "v", "", 4), "W=4 is not in 1..N=3"},
        InvalidPut{"MalformedContext", PutRequest("k", "v", "\xff\xff"), "context is malformed"},
        InvalidPut{"DeleteWithValue",
                   [] {
                     pb::PutRequest r = PutRequest("k", "v");
                     r.set_tombstone(true);
                     return r;
                   }(),
                   "a delete carries no value"},
        InvalidPut{"IdempotencyKeyTooLong",
                   [] {
                     pb::PutRequest r = PutRequest("k", "v");
                     r.set_idempotency_key(std::string(65, 'i'));
                     return r;
                   }(),
                   "idempotency key is 65 bytes, over the limit of 64"}),
    [](const ::testing::TestParamInfo<InvalidPut>& info) { return info.param.name; });

TEST(ReplicaNodeTest, WOfZeroMeansTheClusterDefault) {
  // kv.proto: "0: the cluster's default W", so W=0 is not an error.
  TestCluster cluster(3);
  const auto put = cluster.Put("n1", PutRequest("k", "v", "", 0));
  ASSERT_TRUE(put.status.ok()) << put.status;
  EXPECT_EQ(put.response.quorum().required(), 2u);
}

TEST(ReplicaNodeTest, GetWithRAboveNIsInvalidArgument) {
  TestCluster cluster(3);
  const auto get = cluster.Get("n1", "k", 4);
  EXPECT_EQ(get.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(get.status.message(), "R=4 is not in 1..N=3");
}

TEST(ReplicaNodeTest, MoreThanOneHundredSiblingsIsFailedPrecondition) {
  TestCluster cluster(3);
  int warnings = 0;
  SetLogSink([&](LogLevel level, absl::string_view) { warnings += level == LogLevel::kWarning; });
  for (size_t i = 1; i <= kMaxSiblings; ++i) {
    ASSERT_TRUE(cluster.Put("n1", PutRequest("k", absl::StrCat("v", i))).status.ok()) << i;
    if (i < kSiblingWarnThreshold) {
      EXPECT_EQ(warnings, 0) << i;
    } else if (i == kSiblingWarnThreshold) {
      EXPECT_EQ(warnings, 1) << "no warning at " << i << " siblings";
    }
  }
  SetLogSink(nullptr);
  EXPECT_EQ(warnings, 1) << "one warning per episode, not one per write";
  const auto refused = cluster.Put("n1", PutRequest("k", "one too many"));
  EXPECT_EQ(refused.status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.status.message()), StartsWith("too many siblings"));
  EXPECT_EQ(LiveSiblingCount(*cluster.Stored("n1", "k")), kMaxSiblings);
  // Resolving is still allowed.
  const std::string context = cluster.Get("n1", "k").response.context();
  ASSERT_TRUE(cluster.Put("n1", PutRequest("k", "resolved", context)).status.ok());
  EXPECT_THAT(Values(cluster.Get("n1", "k", 3).response), ElementsAre("resolved"));
}

TEST(ReplicaNodeTest, ReadRepairFixesAReplicaThatMissedTheWrite) {
  TestCluster cluster(3);
  cluster.net().SetHealth("n3", FakeNetwork::Health::kDown);
  ASSERT_TRUE(cluster.Put("n1", PutRequest("k", "v", "", 2)).status.ok());
  ASSERT_FALSE(cluster.Stored("n3", "k").has_value());
  cluster.net().SetHealth("n3", FakeNetwork::Health::kUp);
  const auto get = cluster.Get("n1", "k", 3);  // async repair; Get delivers it
  ASSERT_TRUE(get.status.ok()) << get.status;
  EXPECT_THAT(get.response.quorum().repaired(), ElementsAre("n3"));
  EXPECT_EQ(cluster.Stored("n3", "k"), cluster.Stored("n1", "k"));
}

TEST(ReplicaNodeTest, AsyncReadRepairRepliesBeforeTheRepairIsDelivered) {
  TestCluster cluster(3);
  cluster.net().SetHealth("n3", FakeNetwork::Health::kDown);
  ASSERT_TRUE(cluster.Put("n1", PutRequest("k", "v")).status.ok());
  cluster.net().SetHealth("n3", FakeNetwork::Health::kUp);
  const auto get = cluster.StartGet("n1", "k", 3);
  cluster.net().Deliver([](const FakeNetwork::Call& c) { return c.kind == "read"; });
  EXPECT_TRUE(get->done);
  EXPECT_FALSE(cluster.Stored("n3", "k").has_value());
  EXPECT_EQ(cluster.net().DeliverAll(), 1);  // the repair
  EXPECT_TRUE(cluster.Stored("n3", "k").has_value());
}

TEST(ReplicaNodeTest, DeleteLeavesATombstoneAndNotFound) {
  TestCluster cluster(3);
  ASSERT_TRUE(cluster.Put("n1", PutRequest("k", "v")).status.ok());
  const std::string context = cluster.Get("n1", "k").response.context();
  ASSERT_TRUE(cluster.Put("n2", DeleteRequest("k", context)).status.ok());
  const auto get = cluster.Get("n3", "k", 3);
  ASSERT_TRUE(get.status.ok()) << get.status;
  EXPECT_FALSE(get.response.found());
  EXPECT_THAT(Values(get.response), ElementsAre("<deleted>"));
  EXPECT_NE(get.response.context(), "");
}

TEST(ReplicaNodeTest, DeleteConcurrentWithAWriteKeepsTheWrite) {
  TestCluster cluster(3);
  ASSERT_TRUE(cluster.Put("n1", PutRequest("k", "v")).status.ok());
  const std::string context = cluster.Get("n1", "k").response.context();
  const auto del = cluster.StartPut("n1", DeleteRequest("k", context));
  const auto put = cluster.StartPut("n2", PutRequest("k", "v2", context));
  cluster.net().DeliverAll();
  ASSERT_TRUE(del->status.ok() && put->status.ok());
  const auto get = cluster.Get("n3", "k", 3);
  EXPECT_TRUE(get.response.found());
  EXPECT_THAT(Values(get.response), ElementsAre("<deleted>", "v2"));
}

TEST(ReplicaNodeTest, PutIsUnavailableWhenFewerThanWReplicasAck) {
  TestCluster cluster(3);
  cluster.net().SetHealth("n2", FakeNetwork::Health::kDown);
  cluster.net().SetHealth("n3", FakeNetwork::Health::kDown);
  const auto put = cluster.Put("n1", PutRequest("k", "v", "", 2));
  EXPECT_EQ(put.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(put.status.message()), StartsWith("quorum not met: got 1 of W=2 acks"));
  EXPECT_THAT(put.response.quorum().failed(), UnorderedElementsAre("n2", "n3"));
}

TEST(ReplicaNodeTest, PutWithAHungReplicaIsDeadlineExceeded) {
  TestCluster cluster(3);
  cluster.net().SetHealth("n3", FakeNetwork::Health::kHung);
  const auto put = cluster.Put("n1", PutRequest("k", "v", "", 3));
  EXPECT_EQ(put.status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(put.status.message()), HasSubstr("outcome unknown"));
}

// A get asks R home replicas first and a spare only when one fails. A
// replica that hangs fails at the deadline of its read: that deadline must
// leave the spare time to answer, or a hung replica the failure detector
// has not yet caught fails the whole get however long the client waits.
TEST(ReplicaNodeTest, AGetThatAsksRFirstLeavesASpareTimeAfterAHungReplica) {
  TestCluster cluster(3, "read_all_replicas: false default_r: 2");
  auto is_read = [](const FakeNetwork::Call& c) { return c.kind == "read"; };
  const absl::Time start = cluster.clock("n1").Now();
  const auto get = cluster.StartGet("n1", "k");
  std::vector<FakeNetwork::Call> first = cluster.net().Queued(is_read);
  ASSERT_EQ(first.size(), 1u);  // the coordinator's own replica is the other
  // The replica hangs: its read fails at its deadline.
  cluster.clock("n1").Advance(first[0].deadline - cluster.clock("n1").Now());
  cluster.net().Drop([&](const FakeNetwork::Call& c) { return is_read(c) && c.to == first[0].to; });
  std::vector<FakeNetwork::Call> spare = cluster.net().Queued(is_read);
  ASSERT_EQ(spare.size(), 1u);
  EXPECT_NE(spare[0].to, first[0].to);
  EXPECT_GT(spare[0].deadline, cluster.clock("n1").Now()) << "the spare is asked with no time left";
  // The last replica there is to ask gets all the time left, not half.
  const absl::Duration first_wait = first[0].deadline - start;
  EXPECT_GE(spare[0].deadline - cluster.clock("n1").Now(), first_wait - absl::Milliseconds(1));
  cluster.net().DeliverAll();
  ASSERT_TRUE(get->done);
  EXPECT_TRUE(get->status.ok()) << get->status;
}

TEST(ReplicaNodeTest, GetIsUnavailableWhenFewerThanRReplicasAnswer) {
  TestCluster cluster(3);
  cluster.net().SetHealth("n2", FakeNetwork::Health::kDown);
  cluster.net().SetHealth("n3", FakeNetwork::Health::kDown);
  const auto get = cluster.Get("n1", "k", 2);
  EXPECT_EQ(get.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(get.status.message()), StartsWith("quorum not met: got 1 of R=2"));
}

// Alice's and Bob's blind puts both go through n1, so their dots share an
// actor. Bob's reply context must not cover Alice's dot: a put with it would
// silently replace a value Bob never saw.
TEST(ReplicaNodeTest, PutReplyContextNeverCoversAValueItsWriterDidNotSee) {
  TestCluster cluster(3);
  ASSERT_TRUE(cluster.Put("n1", PutRequest("k", "alice")).status.ok());
  const auto bob = cluster.Put("n1", PutRequest("k", "bob"));
  ASSERT_TRUE(bob.status.ok());
  ASSERT_TRUE(cluster.Put("n1", PutRequest("k", "bob2", bob.response.context())).status.ok());
  EXPECT_THAT(Values(cluster.Get("n2", "k", 3).response), ::testing::Contains("alice"));
}

TEST(ReplicaNodeTest, PutReplyContextCoversTheWriteAfterAFullRead) {
  TestCluster cluster(3);
  ASSERT_TRUE(cluster.Put("n1", PutRequest("k", "v1")).status.ok());
  const std::string read = cluster.Get("n1", "k", 3).response.context();
  const auto put = cluster.Put("n1", PutRequest("k", "v2", read));
  ASSERT_TRUE(put.status.ok());
  ASSERT_TRUE(cluster.Put("n1", PutRequest("k", "v3", put.response.context())).status.ok());
  EXPECT_THAT(Values(cluster.Get("n2", "k", 3).response), ElementsAre("v3"));
}

TEST(ReplicaNodeTest, TombstonesCountTowardTheSiblingLimit) {
  TestCluster cluster(3);
  SetLogSink([](LogLevel, absl::string_view) {});  // the warnings from 25 on
  for (size_t i = 0; i < kMaxSiblings; ++i) {
    ASSERT_TRUE(cluster.Put("n1", DeleteRequest("k", "")).status.ok()) << i;
  }
  SetLogSink(nullptr);
  const auto refused = cluster.Put("n1", DeleteRequest("k", ""));
  EXPECT_EQ(refused.status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.status.message()), HasSubstr("too many siblings"));
}

TEST(ReplicaNodeTest, AContextOfAnotherKeyIsInvalidArgument) {
  TestCluster cluster(3);
  ASSERT_TRUE(cluster.Put("n1", PutRequest("a", "v")).status.ok());
  const std::string context_of_a = cluster.Get("n1", "a").response.context();
  const auto put = cluster.Put("n1", PutRequest("b", "v", context_of_a));
  EXPECT_EQ(put.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(put.status.message()), HasSubstr("another key"));
  EXPECT_FALSE(cluster.Stored("n1", "b").has_value());
}

TEST(ReplicaNodeTest, ANodeThatIsNotHomeRefusesToAnswerForAKey) {
  TestCluster cluster(4);
  for (int i = 0; i < 100; ++i) {
    const std::string key = absl::StrCat("key", i);
    if (cluster.node("n4").ring().IsHome(key, "n4")) continue;
    pb::ReplicaReadRequest read;
    read.set_key(key);
    EXPECT_EQ(cluster.node("n4").HandleRead(read).status().code(),
              absl::StatusCode::kFailedPrecondition);
    return;
  }
  FAIL() << "no key without n4 among its home replicas";
}

}  // namespace
}  // namespace quorumkv
