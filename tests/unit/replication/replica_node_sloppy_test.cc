// ReplicaNode's honesty when home replicas are down: what a sloppy get may
// count as an answer, which strict requests it refuses before writing, and
// where a forwarded put goes when a home replica sheds it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

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

// A 5-node N=3 cluster and the preference list of kKey in it.
class SloppyTest : public ::testing::Test {
 protected:
  SloppyTest() : cluster_(5), pref_(cluster_.node("n1").ring().ForKey(kKey)) {}

  void SetHealth(const std::vector<std::string>& nodes, FakeNetwork::Health health) {
    for (const std::string& n : nodes) cluster_.net().SetHealth(n, health);
  }
  const std::string& home(int i) const { return pref_.home.at(i); }
  const std::string& fallback(int i) const { return pref_.fallbacks.at(i); }

  // `at`'s failure detector has pinged every peer and heard back (or not).
  void LearnWhoIsDown(const std::string& at) {
    cluster_.node(at).Tick();
    cluster_.net().Deliver(FakeNetwork::From(at));
  }

  TestCluster cluster_;
  const PreferenceList pref_;
};

// Homes n1..n3 all hold v; the coordinator reaches only fallbacks, which
// hold no hint of the key. Their empty answers are no vote for a home: the
// get cannot claim the key is absent.
TEST_F(SloppyTest, AGetWhoseFallbacksHoldNoHintIsNotAnsweredNotFound) {
  ASSERT_TRUE(cluster_.Put(home(0), PutRequest(kKey, "v", "", 3)).status.ok());
  SetHealth(pref_.home, FakeNetwork::Health::kDown);
  const auto get = cluster_.Get(fallback(0), kKey, 2);
  EXPECT_FALSE(get.status.ok() && !get.response.found())
      << "found: false from fallbacks that hold nothing";
  EXPECT_EQ(get.status.code(), absl::StatusCode::kUnavailable) << get.status;
  EXPECT_THAT(std::string(get.status.message()), HasSubstr("holds no hint of the key"));
}

// n2, n3 down: a W=2 put is acked by n1 and a fallback holding a hint for
// n2. Then n1 goes down too. The fallback is asked to stand in for n1, not
// n2: it answers with every hint it holds of the key, whichever home it is for.
TEST_F(SloppyTest, AFallbackAnswersWithTheHintItHoldsForAnyHome) {
  SetHealth({home(1), home(2), fallback(1)}, FakeNetwork::Health::kDown);
  const auto put = cluster_.Put(home(0), PutRequest(kKey, "v", "", 2));
  ASSERT_TRUE(put.status.ok()) << put.status;
  ASSERT_THAT(put.response.quorum().fallbacks(), ElementsAre(fallback(0)));
  ASSERT_EQ(put.response.quorum().replied(1).hinted_for(), home(1));

  SetHealth({home(0)}, FakeNetwork::Health::kDown);
  SetHealth({fallback(1)}, FakeNetwork::Health::kUp);
  const auto get = cluster_.Get(fallback(0), kKey, 1);
  ASSERT_TRUE(get.status.ok()) << get.status;
  EXPECT_TRUE(get.response.found());
  EXPECT_THAT(Values(get.response), ElementsAre("v"));
  ASSERT_EQ(get.response.quorum().replied_size(), 1);
  EXPECT_EQ(get.response.quorum().replied(0).node(), fallback(0));
}

TEST_F(SloppyTest, AFallbackWithNothingIsReplacedByTheNextOne) {
  SetHealth({home(1), home(2), fallback(1)}, FakeNetwork::Health::kDown);
  ASSERT_TRUE(cluster_.Put(home(0), PutRequest(kKey, "v", "", 2)).status.ok());
  SetHealth({fallback(1)}, FakeNetwork::Health::kUp);
  SetHealth({home(0)}, FakeNetwork::Health::kDown);
  // From fallback(1), which holds nothing: its own empty answer is no vote,
  // and fallback(0) then stands in with its hint.
  const auto get = cluster_.Get(fallback(1), kKey, 1);
  ASSERT_TRUE(get.status.ok()) << get.status;
  EXPECT_THAT(Values(get.response), ElementsAre("v"));
}

TEST_F(SloppyTest, AStrictPutKnownToMissItsQuorumIsRefusedBeforeAnythingIsWritten) {
  SetHealth({home(2)}, FakeNetwork::Health::kDown);
  LearnWhoIsDown(home(0));
  pb::PutRequest request = PutRequest(kKey, "v", "", 3);
  request.set_strict(true);
  const auto put = cluster_.Put(home(0), request);
  EXPECT_EQ(put.status.code(), absl::StatusCode::kUnavailable) << put.status;
  EXPECT_THAT(std::string(put.status.message()), HasSubstr("nothing written"));
  EXPECT_THAT(std::string(put.status.message()), HasSubstr(home(2) + " is down"));
  for (const std::string& id : cluster_.ids()) {
    EXPECT_FALSE(cluster_.Stored(id, kKey).has_value()) << id;
    EXPECT_EQ(cluster_.store(id).last_issued_counter(), 0u) << id;
  }
  EXPECT_THAT(put.response.quorum().replied(), IsEmpty());
}

TEST_F(SloppyTest, AStrictGetKnownToMissItsQuorumIsRefusedBeforeAnyRead) {
  SetHealth({home(1), home(2)}, FakeNetwork::Health::kDown);
  LearnWhoIsDown(home(0));
  pb::GetRequest request;
  request.set_key(kKey);
  request.set_r(2);
  request.set_strict(true);
  std::optional<absl::Status> status;
  cluster_.node(home(0)).Get(request, absl::InfiniteFuture(),
                             [&](absl::Status s, pb::GetResponse) { status = s; });
  ASSERT_TRUE(status.has_value()) << "not refused at once";
  EXPECT_EQ(status->code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(status->message()), HasSubstr("R=2"));
  EXPECT_EQ(cluster_.net().pending(), 0u) << "a replica was asked";
}

TEST_F(SloppyTest, ASloppyPutWithHomesKnownDownStillGoesToFallbacks) {
  SetHealth({home(1), home(2)}, FakeNetwork::Health::kDown);
  LearnWhoIsDown(home(0));
  const auto put = cluster_.Put(home(0), PutRequest(kKey, "v", "", 3));
  ASSERT_TRUE(put.status.ok()) << put.status;
  EXPECT_EQ(put.response.quorum().fallbacks_size(), 2);
}

// Shed before it was handled, the put was not written anywhere: the next
// home replica may coordinate it.
TEST_F(SloppyTest, AForwardedPutShedByAHomeReplicaIsTriedAtTheNext) {
  SetHealth({home(0)}, FakeNetwork::Health::kOverloaded);
  const auto put = cluster_.Put(fallback(0), PutRequest(kKey, "v"));
  ASSERT_TRUE(put.status.ok()) << put.status;
  EXPECT_EQ(put.response.quorum().coordinator(), home(1));
}

// Status, as any node reports it: hints dropped for age are counted for
// their home, and the node that dropped them has marked their partition.
TEST(SloppyStatusTest, HintsDroppedForAgeAreCountedForTheirHomeInStatus) {
  TestCluster cluster(4, "max_hint_age_ms: 60000");
  const PreferenceList pref = cluster.node("n1").ring().ForKey(kKey);
  const std::string down = pref.home[1], fallback = pref.fallbacks[0];
  cluster.net().SetHealth(down, FakeNetwork::Health::kDown);
  const auto put = cluster.Put(pref.home[0], PutRequest(kKey, "v", "", 3));
  ASSERT_TRUE(put.status.ok()) << put.status;
  ASSERT_THAT(put.response.quorum().fallbacks(), ElementsAre(fallback));

  cluster.clock(fallback).Advance(absl::Minutes(2));
  cluster.node(fallback).Tick();
  cluster.net().DeliverAll();
  std::optional<pb::StatusResponse> status;
  cluster.node(pref.home[0]).Status([&](pb::StatusResponse r) { status = std::move(r); });
  cluster.net().DeliverAll();
  ASSERT_TRUE(status.has_value());
  for (const pb::NodeStatus& n : status->nodes()) {
    EXPECT_EQ(n.hints_expired(), n.id() == down ? 1u : 0u) << n.id();
    EXPECT_EQ(n.hints_pending(), 0u) << n.id();
    EXPECT_EQ(n.partitions_marked_for_repair(), n.id() == fallback ? 1u : 0u) << n.id();
    EXPECT_FALSE(n.lost_writes()) << n.id();
  }
}

TEST_F(SloppyTest, AForwardedPutWhoseCoordinatorCouldNotWriteIsTriedAtTheNext) {
  cluster_.store(home(0)).SetWriteError(absl::ResourceExhaustedError("disk full"));
  const auto put = cluster_.Put(fallback(0), PutRequest(kKey, "v"));
  ASSERT_TRUE(put.status.ok()) << put.status;
  EXPECT_EQ(put.response.quorum().coordinator(), home(1));
  EXPECT_FALSE(cluster_.Stored(home(0), kKey).has_value());
}

}  // namespace
}  // namespace quorumkv
