// What a read's quorum metadata claims about the writes it reflects, and
// that the claim holds: strict_overlap only when every acknowledged write is
// provably reflected, covers_w for the writes it does prove.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "replication/replica_node.h"
#include "tests/unit/replication/test_cluster.h"
#include "tests/unit/test_support.h"

namespace quorumkv {
namespace {

using test_support::FakeNetwork;
using test_support::PutRequest;
using test_support::TestCluster;
using test_support::Values;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

using test_support::kKey;

pb::GetRequest StrictGet(const std::string& key, uint32_t r) {
  pb::GetRequest request;
  request.set_key(key);
  request.set_r(r);
  request.set_strict(true);
  return request;
}

// A W=1 put, acked by n1 alone; a read R=2 of n2 and n3 cannot see it, and
// must not claim it would have.
TEST(ReadOverlapTest, AReadThatMissedAWOfOneWriteDoesNotClaimStrictOverlap) {
  TestCluster cluster(3);
  cluster.net().SetHealth("n2", FakeNetwork::Health::kDown);
  cluster.net().SetHealth("n3", FakeNetwork::Health::kDown);
  ASSERT_TRUE(cluster.Put("n1", PutRequest(kKey, "v", "", 1)).status.ok());
  cluster.net().SetHealth("n2", FakeNetwork::Health::kUp);
  cluster.net().SetHealth("n3", FakeNetwork::Health::kUp);
  cluster.net().SetHealth("n1", FakeNetwork::Health::kDown);
  const auto get = cluster.Get("n2", kKey, 2);
  ASSERT_TRUE(get.status.ok()) << get.status;
  ASSERT_FALSE(get.response.found()) << "the read did reach n1";
  EXPECT_FALSE(get.response.quorum().strict_overlap())
      << "R=2 + default W=2 > N=3, but this write was acked with W=1";
  EXPECT_EQ(get.response.quorum().covers_w(), 2u);
  EXPECT_THAT(get.response.quorum().overlap_note(), HasSubstr("at least 2 of the 3"));
}

// A sloppy W=2 put acked by n1 and a fallback whose hint for n2 is not yet
// delivered: on one home replica only. A read of n2 and n3 misses it.
TEST(ReadOverlapTest, AReadThatMissedASloppyWriteWithAPendingHintDoesNotClaimStrictOverlap) {
  TestCluster cluster(4);
  const PreferenceList pref = cluster.node("n1").ring().ForKey(kKey);
  const std::string &a = pref.home[0], &b = pref.home[1], &c = pref.home[2];
  cluster.net().SetHealth(b, FakeNetwork::Health::kDown);
  cluster.net().SetHealth(c, FakeNetwork::Health::kDown);
  const auto put = cluster.Put(a, PutRequest(kKey, "v", "", 2));
  ASSERT_TRUE(put.status.ok()) << put.status;
  ASSERT_EQ(put.response.quorum().fallbacks_size(), 1);
  cluster.net().SetHealth(b, FakeNetwork::Health::kUp);
  cluster.net().SetHealth(c, FakeNetwork::Health::kUp);
  cluster.net().SetHealth(a, FakeNetwork::Health::kDown);
  std::optional<pb::GetResponse> got;
  cluster.node(b).Get(StrictGet(kKey, 2), absl::InfiniteFuture(),
                      [&](absl::Status s, pb::GetResponse r) {
                        EXPECT_TRUE(s.ok()) << s;
                        got = std::move(r);
                      });
  cluster.net().Deliver([](const FakeNetwork::Call& call) { return call.kind == "read"; });
  ASSERT_TRUE(got.has_value());
  ASSERT_FALSE(got->found());
  EXPECT_FALSE(got->quorum().strict_overlap());
}

TEST(ReadOverlapTest, AReadOfEveryHomeReplicaReflectsEveryAcknowledgedWrite) {
  TestCluster cluster(3);
  ASSERT_TRUE(cluster.Put("n1", PutRequest(kKey, "v", "", 1)).status.ok());
  const auto get = cluster.Get("n2", kKey, 3);
  ASSERT_TRUE(get.status.ok()) << get.status;
  EXPECT_TRUE(get.response.quorum().strict_overlap());
  EXPECT_EQ(get.response.quorum().covers_w(), 1u);
}

// With min_w: 2 on a namespace, every acknowledged write of it is on two
// home replicas at least, so a read of two home replicas reflects them all.
TEST(ReadOverlapTest, ANamespaceMinWMakesAReadOfRTwoProvablyStrict) {
  TestCluster cluster(4, "namespaces { name: \"safe\" min_w: 2 }");
  const std::string key = "safe/k";
  const auto low = cluster.Put("n1", PutRequest(key, "v", "", 1));
  EXPECT_EQ(low.status.code(), absl::StatusCode::kInvalidArgument) << low.status;
  EXPECT_THAT(std::string(low.status.message()), HasSubstr("min_w=2"));
  const auto put = cluster.Put("n1", PutRequest(key, "v"));
  ASSERT_TRUE(put.status.ok()) << put.status;
  const auto get = cluster.Get("n1", key, 2);
  ASSERT_TRUE(get.status.ok()) << get.status;
  EXPECT_TRUE(get.response.quorum().strict_overlap());
  EXPECT_THAT(Values(get.response), ElementsAre("v"));
}

// In such a namespace a fallback's ack does not count toward min_w: a
// sloppy put with one home replica reachable fails, saying why.
TEST(ReadOverlapTest, ANamespaceMinWCountsHomeAcksOnly) {
  TestCluster cluster(4, "namespaces { name: \"safe\" min_w: 2 }");
  const std::string key = "safe/k";
  const PreferenceList pref = cluster.node("n1").ring().ForKey(key);
  cluster.net().SetHealth(pref.home[1], FakeNetwork::Health::kDown);
  cluster.net().SetHealth(pref.home[2], FakeNetwork::Health::kDown);
  const auto put = cluster.Put(pref.home[0], PutRequest(key, "v", "", 2));
  EXPECT_EQ(put.status.code(), absl::StatusCode::kUnavailable) << put.status;
  EXPECT_THAT(std::string(put.status.message()), HasSubstr("1 of min_w=2 home acks"));
}

// A replica that restarted having lost writes may lack some that were
// acknowledged: its answer does not count toward the overlap.
TEST(ReadOverlapTest, AReplicaThatLostWritesDoesNotCountTowardStrictOverlap) {
  TestCluster cluster(3);
  ASSERT_TRUE(cluster.Put("n1", PutRequest(kKey, "v", "", 3)).status.ok());
  ASSERT_TRUE(cluster.store("n3").MarkPartitionForRepair(kEveryPartition).ok());
  const auto get = cluster.Get("n2", kKey, 3);
  ASSERT_TRUE(get.status.ok()) << get.status;
  EXPECT_FALSE(get.response.quorum().strict_overlap());
  EXPECT_THAT(get.response.quorum().overlap_note(), HasSubstr("n3"));
}

}  // namespace
}  // namespace quorumkv
