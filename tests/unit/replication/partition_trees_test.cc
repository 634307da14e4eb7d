// PartitionTrees and TreeKeepingStore: a node's Merkle trees stay equal to
// trees built afresh from its store, whatever wrote to it (coordinated
// puts, replica writes, read repair), and a write that failed changes none.
#include "replication/partition_trees.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/unit/replication/test_cluster.h"

namespace quorumkv {
namespace {

using test_support::FakeNetwork;
using test_support::PutRequest;
using test_support::TestCluster;

// Every partition's tree of `node` against those built from its store now.
void ExpectTreesMatchStore(TestCluster& cluster, const std::string& node) {
  PartitionTrees rebuilt(&cluster.node(node).ring());
  ASSERT_TRUE(rebuilt.Build(cluster.store(node)).ok());
  for (uint32_t p = 0; p < cluster.node(node).ring().partition_count(); ++p) {
    ASSERT_EQ(cluster.node(node).trees().Root(p), rebuilt.Root(p)) << node << ", partition " << p;
  }
}

TEST(PartitionTreesTest, TreesFollowEveryWriteOfTheStore) {
  TestCluster cluster(3);
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(
        cluster.Put(absl::StrCat("n", 1 + i % 3), PutRequest(absl::StrCat("k", i % 20), "v"))
            .status.ok());
  }
  // n3 misses writes, then a read of every key repairs it.
  cluster.net().SetHealth("n3", FakeNetwork::Health::kDown);
  for (int i = 0; i < 20; ++i) cluster.Put("n1", PutRequest(absl::StrCat("k", i), "w"));
  cluster.net().SetHealth("n3", FakeNetwork::Health::kUp);
  for (int i = 0; i < 20; ++i) cluster.Get("n1", absl::StrCat("k", i), 3);
  for (const std::string& node : cluster.ids()) ExpectTreesMatchStore(cluster, node);
  EXPECT_EQ(cluster.node("n1").trees().Root(cluster.node("n1").ring().PartitionOf("k1")),
            cluster.node("n3").trees().Root(cluster.node("n3").ring().PartitionOf("k1")));
}

TEST(PartitionTreesTest, AWriteThatFailedChangesNoTree) {
  TestCluster cluster(3);
  ASSERT_TRUE(cluster.Put("n1", PutRequest("k", "v")).status.ok());
  const uint32_t p = cluster.node("n2").ring().PartitionOf("k");
  const uint64_t before = cluster.node("n2").trees().Root(p);
  cluster.store("n2").SetWriteError(absl::ResourceExhaustedError("disk full"));
  cluster.Put("n1", PutRequest("k", "w"));
  EXPECT_EQ(cluster.node("n2").trees().Root(p), before);
  ExpectTreesMatchStore(cluster, "n2");
  cluster.store("n2").SetWriteError(absl::OkStatus());
  ExpectTreesMatchStore(cluster, "n1");
}

TEST(PartitionTreesTest, ARestartBuildsTheTreesFromWhatTheStoreHolds) {
  TestCluster cluster(3);
  for (int i = 0; i < 10; ++i) cluster.Put("n1", PutRequest(absl::StrCat("k", i), "v"));
  const uint32_t p = cluster.node("n2").ring().PartitionOf("k3");
  const uint64_t root = cluster.node("n2").trees().Root(p);
  ASSERT_NE(root, 0u);
  cluster.Restart("n2", /*wipe=*/false);
  EXPECT_EQ(cluster.node("n2").trees().Root(p), root);
  cluster.Restart("n2", /*wipe=*/true);
  EXPECT_EQ(cluster.node("n2").trees().Root(p), 0u);
}

}  // namespace
}  // namespace quorumkv
