// ReplicaNode in a last-writer-wins namespace: lossy by design (only the
// newest write by HLC is kept), but a key with acknowledged writes and no
// delete must still read as found.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "replication/replica_node.h"
#include "tests/unit/replication/test_cluster.h"

namespace quorumkv {
namespace {

using test_support::FakeNetwork;
using test_support::PutRequest;
using test_support::TestCluster;
using test_support::Values;
using ::testing::ElementsAre;

constexpr char kLwwConfig[] = R"pb(namespaces { name: "lww" conflict: CONFLICT_LWW })pb";

TEST(ReplicaNodeLwwTest, ConcurrentWritesKeepOnlyTheLatest) {
  TestCluster cluster(3, kLwwConfig);
  cluster.clock("n2").Advance(absl::Milliseconds(5));
  const auto first = cluster.StartPut("n1", PutRequest("lww/k", "first"));
  const auto second = cluster.StartPut("n2", PutRequest("lww/k", "second"));
  cluster.net().DeliverAll();
  ASSERT_TRUE(first->status.ok() && second->status.ok());
  const auto get = cluster.Get("n3", "lww/k", 3);
  ASSERT_TRUE(get.status.ok()) << get.status;
  EXPECT_THAT(Values(get.response), ElementsAre("second"));
  for (const std::string& id : cluster.ids()) {
    EXPECT_EQ(cluster.Stored(id, "lww/k")->siblings.size(), 1u) << id;
  }
}

TEST(ReplicaNodeLwwTest, OtherNamespacesStillKeepSiblings) {
  TestCluster cluster(3, kLwwConfig);
  ASSERT_TRUE(cluster.Put("n1", PutRequest("other/k", "first")).status.ok());
  ASSERT_TRUE(cluster.Put("n2", PutRequest("other/k", "second")).status.ok());
  EXPECT_THAT(Values(cluster.Get("n3", "other/k", 3).response), ElementsAre("first", "second"));
}

// Clocks n1 < n2 < n3. x (at n3) is replaced by z (at n1, whose context
// covers x but whose HLC is lower); y (at n2) is concurrent with both. n1
// keeps y over z, n3 keeps x over y. Last-writer-wins orders by timestamp
// alone, so once the replicas merge, x (the highest) is the value — z is lost
// as documented — and the key is never left without a value.
TEST(ReplicaNodeLwwTest, KeyWithAckedWritesAndNoDeleteIsNeverReadAsNotFound) {
  TestCluster cluster(3, kLwwConfig);
  FakeNetwork& net = cluster.net();
  cluster.clock("n2").Advance(absl::Milliseconds(20));
  cluster.clock("n3").Advance(absl::Milliseconds(40));
  const auto x = cluster.StartPut("n3", PutRequest("lww/k", "x", "", 1));
  const auto y = cluster.StartPut("n2", PutRequest("lww/k", "y", "", 1));
  // A client reads x from n3 alone and writes z at n1, whose clock is behind.
  const auto read = cluster.StartGet("n3", "lww/k", 1);
  net.Drop([](const FakeNetwork::Call& c) { return c.kind == "read"; });
  ASSERT_THAT(Values(read->response), ElementsAre("x"));
  const auto z = cluster.StartPut("n1", PutRequest("lww/k", "z", read->response.context(), 1));
  // n1 has not seen x: it checks the context with n2 and n3 (which only
  // tells it x exists), then writes z before x itself reaches it.
  net.Deliver([](const FakeNetwork::Call& c) { return c.kind == "read"; });
  ASSERT_TRUE(x->done && y->done && z->done);
  ASSERT_TRUE(x->status.ok() && y->status.ok() && z->status.ok()) << z->status;
  net.Deliver(FakeNetwork::From("n2"));  // y reaches n1 (beats z) and n3 (loses to x)
  net.DeliverAll();
  const auto get = cluster.Get("n1", "lww/k", 3);
  ASSERT_TRUE(get.status.ok()) << get.status;
  EXPECT_TRUE(get.response.found()) << "three acked writes, no delete, and the key is gone";
  EXPECT_THAT(Values(get.response), ElementsAre("x"));
}

}  // namespace
}  // namespace quorumkv
