// A client's context may only name writes this cluster issued: a forged one
// is refused (INVALID_ARGUMENT, nothing written) and cannot make a key
// unwritable, while a genuine one is accepted even by a coordinator whose
// replica has not caught up with it yet.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "replication/cluster_config.h"
#include "replication/context_check.h"
#include "replication/object_codec.h"
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

using test_support::kKey;

// `context` (a context of kKey) with `extra` entries added.
std::string Forge(const std::string& context, const std::vector<Dot>& extra) {
  VersionVector vv = DecodeContext(context, kKey).value();
  for (const Dot& d : extra) vv.Add(d);
  return EncodeContext(vv, kKey);
}

TEST(CheckUnseenActorsTest, AcceptsActorsOfTheConfigsNodesInEveryGeneration) {
  const pb::ClusterConfig config = ParseClusterConfig(
                                       "nodes { id: \"n1\" address: \"a:1\" } "
                                       "nodes { id: \"n-2\" address: \"a:2\" } "
                                       "replication_factor: 2 default_r: 1 default_w: 1")
                                       .value();
  const std::vector<Dot> good = {Dot{"n1.0000abcd", 3}, Dot{"n-2.0000abcd.00000002", 1}};
  EXPECT_TRUE(CheckUnseenActors(config, good).ok());
  for (const char* bad : {"n3.0000abcd", "n1", "n1x.0000abcd", ".n1"}) {
    std::vector<Dot> forged = good;
    forged.push_back(Dot{bad, 1});
    const absl::Status status = CheckUnseenActors(config, forged);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(status.message()), HasSubstr(bad));
  }
}

TEST(UnseenByTest, ListsTheEntriesAboveWhatWasSeen) {
  VersionVector seen, context;
  seen.Add(Dot{"a", 5});
  seen.Add(Dot{"b", 2});
  context.Add(Dot{"a", 5});
  context.Add(Dot{"b", 3});
  context.Add(Dot{"c", 1});
  EXPECT_THAT(UnseenBy(seen, context), ElementsAre(Dot{"b", 3}, Dot{"c", 1}));
  EXPECT_THAT(UnseenBy(context, seen), ::testing::IsEmpty());
}

class ContextValidationTest : public ::testing::Test {
 protected:
  ContextValidationTest() : cluster_(3) {
    EXPECT_TRUE(cluster_.Put("n1", PutRequest(kKey, "v", "", 3)).status.ok());
    context_ = cluster_.Get("n1", kKey, 3).response.context();
  }

  // The put is refused as bad input, and no replica's state changed.
  void ExpectRefusedWritingNothing(const std::string& at, const std::string& context,
                                   const std::string& message) {
    std::map<std::string, std::optional<Object>> before;
    for (const std::string& id : cluster_.ids()) before[id] = cluster_.Stored(id, kKey);
    const uint64_t issued = cluster_.store(at).last_issued_counter();
    const auto put = cluster_.Put(at, PutRequest(kKey, "forged", context, 3));
    EXPECT_EQ(put.status.code(), absl::StatusCode::kInvalidArgument) << put.status;
    EXPECT_THAT(std::string(put.status.message()), HasSubstr(message));
    for (const std::string& id : cluster_.ids()) {
      EXPECT_EQ(cluster_.Stored(id, kKey), before[id]) << id;
    }
    EXPECT_EQ(cluster_.store(at).last_issued_counter(), issued) << "a dot was issued";
  }

  // Every node can still coordinate a write of the key that replaces what
  // the context it read covers.
  void ExpectWritableByEveryNode() {
    for (const std::string& id : cluster_.ids()) {
      const std::string read = cluster_.Get(id, kKey, 3).response.context();
      const auto put = cluster_.Put(id, PutRequest(kKey, "by " + id, read, 3));
      ASSERT_TRUE(put.status.ok()) << id << ": " << put.status;
      EXPECT_THAT(Values(cluster_.Get(id, kKey, 3).response), ElementsAre("by " + id));
    }
  }

  TestCluster cluster_;
  std::string context_;
};

// Had n1 stored a context claiming n2's counter is 2^63, every later write
// of the key coordinated by n2 would carry a dot the stored context already
// covers: refused INTERNAL forever, or dropped as superseded by replicas.
TEST_F(ContextValidationTest, AContextClaimingDotsAnotherNodeNeverIssuedIsRefused) {
  const Dot forged{cluster_.store("n2").actor(), uint64_t{1} << 63};
  ExpectRefusedWritingNothing("n1", Forge(context_, {forged}), "no home replica of the key");
  ExpectWritableByEveryNode();
}

TEST_F(ContextValidationTest, AContextClaimingTheCoordinatorsOwnUnissuedDotIsInvalidArgument) {
  const Dot forged{cluster_.store("n1").actor(), uint64_t{1} << 63};
  ExpectRefusedWritingNothing("n1", Forge(context_, {forged}), "never issued");
  ExpectWritableByEveryNode();
}

// Actors up to the context limit, so that the stored context would be full
// and any write adding one more actor refused.
TEST_F(ContextValidationTest, AContextOfThousandsOfInventedActorsIsRefused) {
  std::vector<Dot> junk;
  for (size_t i = 0; junk.size() + 1 < kMaxContextEntries; ++i) {
    junk.push_back(Dot{absl::StrFormat("zz%05d.00000000", i), 1});
  }
  ExpectRefusedWritingNothing("n1", Forge(context_, junk), "no node of the cluster");
  ExpectWritableByEveryNode();
}

TEST_F(ContextValidationTest, AnActorOfAKnownNodeNoReplicaHasSeenIsRefused) {
  ExpectRefusedWritingNothing("n3", Forge(context_, {Dot{"n2.deadbeef", 5}}),
                              "no home replica of the key");
  ExpectWritableByEveryNode();
}

// n1 missed a write that n2 and n3 hold; a client that read it from them
// writes through n1. The context is genuine: n1 catches up from the other
// home replicas, and the write replaces what the client saw.
TEST_F(ContextValidationTest, AGenuineContextAheadOfTheCoordinatorsReplicaIsAccepted) {
  cluster_.net().SetHealth("n1", FakeNetwork::Health::kDown);
  ASSERT_TRUE(cluster_.Put("n2", PutRequest(kKey, "v2", context_, 2)).status.ok());
  const auto read = cluster_.Get("n2", kKey, 2);  // from n2 and n3
  ASSERT_TRUE(read.status.ok()) << read.status;
  cluster_.net().SetHealth("n1", FakeNetwork::Health::kUp);
  ASSERT_NE(cluster_.Stored("n1", kKey), cluster_.Stored("n2", kKey)) << "n1 should lag";
  const auto put = cluster_.Put("n1", PutRequest(kKey, "v3", read.response.context(), 3));
  ASSERT_TRUE(put.status.ok()) << put.status;
  EXPECT_THAT(Values(cluster_.Get("n2", kKey, 3).response), ElementsAre("v3"));
}

// A key may hold actors of no configured node: a node since removed from
// the config, or kvbench's direct load. A context that names them, as
// every replica has seen them, is genuine.
TEST_F(ContextValidationTest, AContextNamingAnActorEveryReplicaHasSeenIsAccepted) {
  const Dot old_node{"gone.00000001", 3};
  for (const std::string& id : cluster_.ids()) {
    ASSERT_TRUE(cluster_.store(id)
                    .Update(kKey,
                            [&](const std::optional<Object>& current) -> absl::StatusOr<Object> {
                              Object next = current.value_or(Object());
                              next.context.Add(old_node);
                              return next;
                            })
                    .ok());
  }
  const std::string read = cluster_.Get("n1", kKey, 3).response.context();
  const auto put = cluster_.Put("n2", PutRequest(kKey, "v2", read, 3));
  ASSERT_TRUE(put.status.ok()) << put.status;
  EXPECT_THAT(Values(cluster_.Get("n3", kKey, 3).response), ElementsAre("v2"));
}

// A coordinator that cannot ask every other home replica cannot tell a
// context it has not seen from a forged one: it writes nothing and says so.
TEST_F(ContextValidationTest, AnUncheckableContextIsUnavailableAndWritesNothing) {
  const std::string forged = Forge(context_, {Dot{cluster_.store("n2").actor(), 1000}});
  cluster_.net().SetHealth("n2", FakeNetwork::Health::kDown);
  const std::optional<Object> before = cluster_.Stored("n1", kKey);
  const auto put = cluster_.Put("n1", PutRequest(kKey, "x", forged, 1));
  EXPECT_EQ(put.status.code(), absl::StatusCode::kUnavailable) << put.status;
  EXPECT_THAT(std::string(put.status.message()), HasSubstr("nothing written"));
  EXPECT_EQ(cluster_.Stored("n1", kKey), before);
}

}  // namespace
}  // namespace quorumkv
