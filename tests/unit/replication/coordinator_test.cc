// PutCoordinator and GetCoordinator as state machines, fed replies directly.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "replication/get_coordinator.h"
#include "replication/put_coordinator.h"
#include "replication/transport.h"
#include "tests/unit/replication/object_printers.h"

namespace quorumkv {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);
const absl::Time kLater = kStart + absl::Milliseconds(3);
const std::vector<std::string> kHome = {"n1", "n2", "n3"};

Object OneValue(const std::string& actor, uint64_t counter, const std::string& value) {
  Object object;
  object.context.Add(Dot{actor, counter});
  object.siblings.push_back(Sibling{.dot = {actor, counter}, .hlc = counter, .value = value});
  return object;
}

PutCoordinator MakePut(uint32_t w) {
  return PutCoordinator(PutPlan{.key = "k",
                                .self = "n1",
                                .home = kHome,
                                .w = w,
                                .default_r = 2,
                                .stored = OneValue("n1.1", 1, "v"),
                                .start = kStart});
}

GetCoordinator MakeGet(uint32_t r) {
  return GetCoordinator(
      GetPlan{.key = "k", .self = "n1", .home = kHome, .r = r, .default_w = 2, .start = kStart});
}

std::vector<std::string> Replied(const pb::QuorumInfo& info) {
  std::vector<std::string> nodes;
  for (const pb::ReplicaAnswer& a : info.replied()) nodes.push_back(a.node());
  return nodes;
}

TEST(PutCoordinatorTest, TargetsAreTheOtherHomeReplicasWithTheStoredObject) {
  const PutCoordinator put = MakePut(2);
  EXPECT_THAT(put.Targets(), ElementsAre("n2", "n3"));
  EXPECT_EQ(put.request().key(), "k");
  EXPECT_EQ(put.request().from(), "n1");
  ASSERT_EQ(put.request().object().siblings_size(), 1);
  EXPECT_EQ(put.request().object().siblings(0).value(), "v");
}

TEST(PutCoordinatorTest, WOfOneIsMetByTheCoordinatorsOwnWrite) {
  const PutCoordinator put = MakePut(1);
  ASSERT_TRUE(put.decided());
  EXPECT_TRUE(put.outcome().ok());
}

TEST(PutCoordinatorTest, WOfTwoSucceedsAfterOneRemoteAck) {
  PutCoordinator put = MakePut(2);
  EXPECT_FALSE(put.decided());
  put.OnReply("n3", absl::OkStatus(), kLater);
  ASSERT_TRUE(put.decided());
  EXPECT_TRUE(put.outcome().ok());
}

TEST(PutCoordinatorTest, WOfThreeWithOneDefiniteFailureIsUnavailable) {
  PutCoordinator put = MakePut(3);
  put.OnReply("n2", absl::OkStatus(), kLater);
  EXPECT_FALSE(put.decided());
  put.OnReply("n3", NotSentError("connection refused"), kLater);
  ASSERT_TRUE(put.decided());
  EXPECT_EQ(put.outcome().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(put.outcome().message()), HasSubstr("quorum not met: got 2 of W=3 acks"));
  EXPECT_THAT(std::string(put.outcome().message()), HasSubstr("n3: connection refused"));
  EXPECT_THAT(std::string(put.outcome().message()),
              HasSubstr("partially applied (stored on n1,n2)"));
}

TEST(PutCoordinatorTest, FailuresThatMakeTheQuorumImpossibleDecideBeforeAllAnswer) {
  PutCoordinator put = MakePut(3);
  put.OnReply("n2", NotSentError("down"), kLater);
  ASSERT_TRUE(put.decided());
  EXPECT_EQ(put.outcome().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(put.outcome().message()), HasSubstr("got 1 of W=3 acks"));
}

TEST(PutCoordinatorTest, TimedOutReplyMeansOutcomeUnknown) {
  PutCoordinator put = MakePut(3);
  put.OnReply("n2", absl::OkStatus(), kLater);
  put.OnReply("n3", absl::DeadlineExceededError("deadline"), kLater);
  ASSERT_TRUE(put.decided());
  EXPECT_EQ(put.outcome().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(put.outcome().message()), HasSubstr("outcome unknown"));
}

TEST(PutCoordinatorTest, DeadlineWithRepliesPendingMeansOutcomeUnknown) {
  PutCoordinator put = MakePut(2);
  put.OnDeadline();
  ASSERT_TRUE(put.decided());
  EXPECT_EQ(put.outcome().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(put.outcome().message()),
              HasSubstr("outcome unknown: got 1 of W=2 acks"));
}

TEST(PutCoordinatorTest, DeadlineAfterSuccessKeepsTheSuccess) {
  PutCoordinator put = MakePut(2);
  put.OnReply("n2", absl::OkStatus(), kLater);
  put.OnDeadline();
  EXPECT_TRUE(put.outcome().ok());
}

TEST(PutCoordinatorTest, DuplicateRepliesAreIgnored) {
  PutCoordinator put = MakePut(3);
  put.OnReply("n2", absl::OkStatus(), kLater);
  put.OnReply("n2", absl::OkStatus(), kLater);
  EXPECT_FALSE(put.decided());
  put.OnReply("n2", NotSentError("late duplicate"), kLater);
  EXPECT_FALSE(put.decided());
  EXPECT_EQ(put.quorum().failed_size(), 0);
}

TEST(PutCoordinatorTest, RepliesFromUnknownNodesAndSelfAreIgnored) {
  PutCoordinator put = MakePut(2);
  put.OnReply("n9", absl::OkStatus(), kLater);
  put.OnReply("n1", absl::OkStatus(), kLater);
  EXPECT_FALSE(put.decided());
  put.OnReply("n9", NotSentError("x"), kLater);
  put.OnReply("n1", NotSentError("x"), kLater);
  EXPECT_FALSE(put.decided());
}

TEST(PutCoordinatorTest, QuorumListsRepliedAndFailedNodes) {
  PutCoordinator put = MakePut(2);
  put.OnReply("n3", NotSentError("down"), kLater);
  put.OnReply("n2", absl::OkStatus(), kLater);
  const pb::QuorumInfo info = put.quorum();
  EXPECT_EQ(info.coordinator(), "n1");
  EXPECT_THAT(Replied(info), ElementsAre("n1", "n2"));
  EXPECT_EQ(info.replied(1).latency_us(), 3000u);
  EXPECT_THAT(info.failed(), ElementsAre("n3"));
  EXPECT_EQ(info.required(), 2u);
  EXPECT_EQ(info.n(), 3u);
  EXPECT_TRUE(info.strict_overlap());  // default R=2 + W=2 > 3
}

TEST(PutCoordinatorTest, StrictOverlapIsFalseWhenRPlusWIsAtMostN) {
  const pb::QuorumInfo info = MakePut(1).quorum();  // R=2 + W=1 = 3
  EXPECT_FALSE(info.strict_overlap());
}

TEST(GetCoordinatorTest, TargetsAreAllHomeReplicas) {
  EXPECT_THAT(MakeGet(2).Targets(), ElementsAre("n1", "n2", "n3"));
}

TEST(GetCoordinatorTest, TwoNotFoundRepliesMeetROfTwoWithAnEmptyMerge) {
  GetCoordinator get = MakeGet(2);
  get.OnReply("n1", std::optional<Object>(), kStart);
  EXPECT_FALSE(get.decided());
  get.OnReply("n2", std::optional<Object>(), kLater);
  ASSERT_TRUE(get.decided());
  EXPECT_TRUE(get.outcome().ok());
  EXPECT_EQ(get.merged(), Object());
  EXPECT_THAT(get.StaleReplicas(), IsEmpty());
}

TEST(GetCoordinatorTest, FoundAndNotFoundMergeToTheValueAndNameTheStaleReplica) {
  GetCoordinator get = MakeGet(2);
  const Object stored = OneValue("n1.1", 1, "v");
  get.OnReply("n1", std::optional<Object>(stored), kStart);
  get.OnReply("n2", std::optional<Object>(), kLater);
  ASSERT_TRUE(get.decided());
  EXPECT_TRUE(get.outcome().ok());
  EXPECT_EQ(get.merged(), stored);
  EXPECT_THAT(get.StaleReplicas(), ElementsAre("n2"));
}

TEST(GetCoordinatorTest, RepliesAfterTheDecisionStillMerge) {
  GetCoordinator get = MakeGet(1);
  get.OnReply("n1", std::optional<Object>(), kStart);
  ASSERT_TRUE(get.decided());
  const Object late = OneValue("n3.1", 4, "late");
  get.OnReply("n3", std::optional<Object>(late), kLater);
  EXPECT_EQ(get.merged(), late);
  EXPECT_THAT(get.StaleReplicas(), ElementsAre("n1"));
}

TEST(GetCoordinatorTest, ConcurrentRepliesMergeAsSiblings) {
  GetCoordinator get = MakeGet(2);
  get.OnReply("n2", std::optional<Object>(OneValue("n2.1", 1, "a")), kLater);
  get.OnReply("n3", std::optional<Object>(OneValue("n3.1", 1, "b")), kLater);
  ASSERT_EQ(get.merged().siblings.size(), 2u);
  EXPECT_THAT(get.StaleReplicas(), ElementsAre("n2", "n3"));
}

TEST(GetCoordinatorTest, LastWriterWinsPlanKeepsOneSibling) {
  GetCoordinator get(GetPlan{.key = "k",
                             .self = "n1",
                             .home = kHome,
                             .r = 2,
                             .policy = MergePolicy::kLastWriterWins,
                             .start = kStart});
  get.OnReply("n2", std::optional<Object>(OneValue("n2.1", 7, "newer")), kLater);
  get.OnReply("n3", std::optional<Object>(OneValue("n3.1", 5, "older")), kLater);
  ASSERT_EQ(get.merged().siblings.size(), 1u);
  EXPECT_EQ(get.merged().siblings[0].value, "newer");
}

TEST(GetCoordinatorTest, TooManyFailuresAreUnavailableNamingR) {
  GetCoordinator get = MakeGet(2);
  get.OnReply("n1", std::optional<Object>(), kStart);
  get.OnReply("n2", NotSentError("down"), kLater);
  EXPECT_FALSE(get.decided());
  get.OnReply("n3", NotSentError("down"), kLater);
  ASSERT_TRUE(get.decided());
  EXPECT_EQ(get.outcome().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(get.outcome().message()),
              StartsWith("quorum not met: got 1 of R=2 replies"));
}

TEST(GetCoordinatorTest, DeadlineIsOutcomeUnknown) {
  GetCoordinator get = MakeGet(2);
  get.OnReply("n1", std::optional<Object>(), kStart);
  get.OnDeadline();
  ASSERT_TRUE(get.decided());
  EXPECT_EQ(get.outcome().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(get.outcome().message()), HasSubstr("outcome unknown"));
}

TEST(GetCoordinatorTest, DuplicateAndUnknownRepliesAreIgnored) {
  GetCoordinator get = MakeGet(2);
  get.OnReply("n2", std::optional<Object>(), kLater);
  get.OnReply("n2", std::optional<Object>(OneValue("n2.1", 1, "dup")), kLater);
  get.OnReply("n9", std::optional<Object>(OneValue("n9.1", 1, "stranger")), kLater);
  EXPECT_FALSE(get.decided());
  EXPECT_EQ(get.merged(), Object());
}

TEST(GetCoordinatorTest, QuorumListsRepliedFailedRequiredNAndOverlap) {
  GetCoordinator get = MakeGet(2);
  get.OnReply("n2", std::optional<Object>(), kLater);
  get.OnReply("n3", NotSentError("down"), kLater);
  get.OnReply("n1", std::optional<Object>(), kLater);
  const pb::QuorumInfo info = get.quorum();
  EXPECT_EQ(info.coordinator(), "n1");
  EXPECT_THAT(Replied(info), ElementsAre("n2", "n1"));
  EXPECT_THAT(info.failed(), ElementsAre("n3"));
  EXPECT_EQ(info.required(), 2u);
  EXPECT_EQ(info.n(), 3u);
  EXPECT_TRUE(info.strict_overlap());
  EXPECT_FALSE(MakeGet(1).quorum().strict_overlap());  // R=1 + default W=2 = 3
}

}  // namespace
}  // namespace quorumkv
