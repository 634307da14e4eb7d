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
#include "tests/unit/test_support.h"

namespace quorumkv {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

using test_support::kStart;
const absl::Time kLater = kStart + absl::Milliseconds(3);

using test_support::OneValue;

const PreferenceList kPref = {.home = {"n1", "n2", "n3"}, .fallbacks = {"n4", "n5"}};

PutPlan MakePutPlan(uint32_t w) {
  return PutPlan{.key = "k",
                 .self = "n1",
                 .pref = kPref,
                 .w = w,
                 .default_r = 2,
                 .stored = OneValue("n1.1", 1, "v"),
                 .start = kStart};
}

// A started put coordinator; its first sends go to `sends` if given.
PutCoordinator MakePut(uint32_t w, std::vector<SlotSend>* sends = nullptr) {
  PutCoordinator put(MakePutPlan(w));
  std::vector<SlotSend> first = put.Start();
  if (sends != nullptr) *sends = std::move(first);
  return put;
}

GetCoordinator MakeGet(uint32_t r) {
  return GetCoordinator(GetPlan{.key = "k", .self = "n1", .pref = kPref, .r = r, .start = kStart});
}

std::vector<std::string> SendsTo(const std::vector<SlotSend>& sends) {
  std::vector<std::string> to;
  for (const SlotSend& s : sends)
    to.push_back(s.hinted_for.empty() ? s.to : s.to + "->" + s.hinted_for);
  return to;
}

std::vector<std::string> Replied(const pb::QuorumInfo& info) {
  std::vector<std::string> nodes;
  for (const pb::ReplicaAnswer& a : info.replied()) nodes.push_back(a.node());
  return nodes;
}

TEST(PutCoordinatorTest, TargetsAreTheOtherHomeReplicasWithTheStoredObject) {
  std::vector<SlotSend> sends;
  const PutCoordinator put = MakePut(2, &sends);
  EXPECT_THAT(SendsTo(sends), ElementsAre("n2", "n3"));
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

TEST(GetCoordinatorTest, StartReadsTheOtherHomeReplicas) {
  EXPECT_THAT(SendsTo(MakeGet(2).Start()), ElementsAre("n2", "n3"));
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

GetCoordinator MakeSloppyGet(uint32_t r) {
  return GetCoordinator(
      GetPlan{.key = "k", .self = "n1", .pref = kPref, .r = r, .sloppy = true, .start = kStart});
}

// A fallback that holds no hint of the key knows nothing of it: its empty
// answer is no vote for the home it stands in for.
TEST(GetCoordinatorTest, AFallbacksEmptyAnswerIsNoVoteAndItsSlotMovesOn) {
  GetCoordinator get = MakeSloppyGet(2);
  get.Start();
  get.OnReply("n1", std::optional<Object>(), kStart);
  std::optional<SlotSend> next = get.OnReply("n2", NotSentError("down"), kLater);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->to, "n4");
  EXPECT_EQ(next->hinted_for, "n2");
  next = get.OnReply("n4", std::optional<Object>(), kLater);
  EXPECT_FALSE(get.decided()) << "an empty fallback counted toward R";
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->to, "n5");
  get.OnReply("n5", std::optional<Object>(OneValue("n1.1", 1, "v")), kLater);
  ASSERT_TRUE(get.decided());
  EXPECT_TRUE(get.outcome().ok());
  EXPECT_THAT(get.quorum().failed(), ElementsAre("n2", "n4"));
}

TEST(GetCoordinatorTest, OnlyEmptyFallbacksLeftIsUnavailableNotNotFound) {
  GetCoordinator get = MakeSloppyGet(2);
  get.Start();
  get.OnReply("n1", std::optional<Object>(), kStart);
  get.OnReply("n2", NotSentError("down"), kLater);
  get.OnReply("n3", NotSentError("down"), kLater);
  get.OnReply("n4", std::optional<Object>(), kLater);
  get.OnReply("n5", std::optional<Object>(), kLater);
  ASSERT_TRUE(get.decided());
  EXPECT_EQ(get.outcome().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(get.outcome().message()),
              HasSubstr("n4 (for n2): holds no hint of the key"));
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
                             .pref = kPref,
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
  // Two home replicas reflect every write on two of three; a W=1 write
  // (min_w 1) may be on the third alone.
  EXPECT_FALSE(info.strict_overlap());
  EXPECT_EQ(info.covers_w(), 2u);
}

GetCoordinator MakeGetWithMinW(uint32_t r, uint32_t min_w) {
  return GetCoordinator(
      GetPlan{.key = "k", .self = "n1", .pref = kPref, .r = r, .min_w = min_w, .start = kStart});
}

TEST(GetCoordinatorTest, StrictOverlapNeedsHomeRepliesPlusMinWAboveN) {
  for (uint32_t min_w = 1; min_w <= 3; ++min_w) {
    for (uint32_t answered = 1; answered <= 3; ++answered) {
      GetCoordinator get = MakeGetWithMinW(3, min_w);
      const std::vector<std::string> homes = {"n1", "n2", "n3"};
      for (uint32_t i = 0; i < answered; ++i)
        get.OnReply(homes[i], std::optional<Object>(), kLater);
      const pb::QuorumInfo info = get.quorum();
      EXPECT_EQ(info.strict_overlap(), answered + min_w > 3)
          << "answered=" << answered << " min_w=" << min_w;
      EXPECT_EQ(info.covers_w(), 3 - answered + 1);
    }
  }
}

TEST(GetCoordinatorTest, FallbacksDoNotCountTowardTheOverlap) {
  GetCoordinator get = MakeSloppyGet(1);
  get.Start();
  get.OnReply("n2", NotSentError("down"), kLater);
  get.OnReply("n4", std::optional<Object>(OneValue("n1.1", 1, "v")), kLater);
  const pb::QuorumInfo info = get.quorum();
  EXPECT_EQ(info.covers_w(), 0u);
  EXPECT_FALSE(info.strict_overlap());
  EXPECT_THAT(info.overlap_note(), HasSubstr("no home replica answered"));
}

TEST(GetCoordinatorTest, AReplicaThatMayLackWritesDoesNotCountTowardStrictOverlap) {
  GetCoordinator get = MakeGetWithMinW(3, 2);
  get.OnReply("n1", std::optional<Object>(), kLater);
  get.OnReply("n2", std::optional<Object>(), kLater, /*may_lack_writes=*/true);
  pb::QuorumInfo info = get.quorum();
  EXPECT_FALSE(info.strict_overlap()) << "only n1 counts: 1 + min_w 2 = 3";
  EXPECT_EQ(info.covers_w(), 2u) << "what n2 holds now is still what it holds";
  EXPECT_THAT(info.overlap_note(), HasSubstr("n2 may have lost writes"));
  get.OnReply("n3", std::optional<Object>(), kLater);
  EXPECT_TRUE(get.quorum().strict_overlap()) << "n1 and n3 count: 2 + 2 > 3";
}

// Sloppy quorum: fallbacks stand in for unhealthy or failing home replicas.

QuorumSlots::Healthy AllBut(const std::string& sick) {
  return [sick](const std::string& node) { return node != sick; };
}

TEST(SloppyPutTest, AnUnhealthyHomeIsReplacedByTheNextHealthyFallbackBeforeTrying) {
  PutPlan plan = MakePutPlan(3);
  plan.sloppy = true;
  plan.healthy = AllBut("n3");
  PutCoordinator put(plan);
  EXPECT_THAT(SendsTo(put.Start()), ElementsAre("n2", "n4->n3"));
}

TEST(SloppyPutTest, AFailedHomeIsReplacedAndTheFallbacksAckCountsTowardW) {
  PutPlan plan = MakePutPlan(3);
  plan.sloppy = true;
  PutCoordinator put(plan);
  put.Start();
  const std::optional<SlotSend> replacement =
      put.OnReply("n2", NotSentError("unreachable (connection refused)"), kLater);
  ASSERT_TRUE(replacement.has_value());
  EXPECT_EQ(replacement->to, "n4");
  EXPECT_EQ(replacement->hinted_for, "n2");
  put.OnReply("n3", absl::OkStatus(), kLater);
  EXPECT_FALSE(put.decided());
  put.OnReply("n4", absl::OkStatus(), kLater);
  ASSERT_TRUE(put.decided());
  EXPECT_TRUE(put.outcome().ok());
  const pb::QuorumInfo info = put.quorum();
  EXPECT_THAT(info.fallbacks(), ElementsAre("n4"));
  EXPECT_TRUE(info.sloppy());
  EXPECT_THAT(info.failed(), ElementsAre("n2"));
}

TEST(SloppyPutTest, TwoHomesReplacedLeaveOnlyTheCoordinatorForTheOverlap) {
  PutPlan plan = MakePutPlan(3);
  plan.sloppy = true;
  plan.healthy = [](const std::string& node) { return node != "n2" && node != "n3"; };
  PutCoordinator put(plan);
  EXPECT_THAT(SendsTo(put.Start()), ElementsAre("n4->n2", "n5->n3"));
  put.OnReply("n4", absl::OkStatus(), kLater);
  put.OnReply("n5", absl::OkStatus(), kLater);
  ASSERT_TRUE(put.decided() && put.outcome().ok());
  EXPECT_FALSE(put.quorum().strict_overlap()) << "one home ack + R=2 does not exceed N=3";
}

TEST(SloppyPutTest, StrictPutNeverUsesAFallback) {
  PutCoordinator put = MakePut(3);  // strict: sloppy is false by default
  EXPECT_FALSE(put.OnReply("n2", NotSentError("down"), kLater).has_value());
  ASSERT_TRUE(put.decided());
  EXPECT_EQ(put.outcome().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(put.quorum().fallbacks(), IsEmpty());
}

TEST(SloppyPutTest, WithNoHealthyFallbackLeftTheSlotFails) {
  PutPlan plan = MakePutPlan(3);
  plan.sloppy = true;
  plan.healthy = [](const std::string& node) { return node == "n1" || node == "n2"; };
  PutCoordinator put(plan);
  EXPECT_THAT(SendsTo(put.Start()), ElementsAre("n2", "n3"));
  EXPECT_FALSE(put.OnReply("n3", NotSentError("down"), kLater).has_value());
  ASSERT_TRUE(put.decided());
  EXPECT_EQ(put.outcome().code(), absl::StatusCode::kUnavailable);
}

TEST(SloppyGetTest, AFallbacksHintCountsTowardRButIsNeverRepaired) {
  GetCoordinator get(GetPlan{.key = "k",
                             .self = "n1",
                             .pref = kPref,
                             .r = 2,
                             .sloppy = true,
                             .healthy = AllBut("n2"),
                             .start = kStart});
  EXPECT_THAT(SendsTo(get.Start()), ElementsAre("n4->n2", "n3"));
  get.OnReply("n4", std::optional<Object>(OneValue("n1.1", 1, "v")), kLater);
  get.OnReply("n1", std::optional<Object>(), kLater);
  ASSERT_TRUE(get.decided());
  EXPECT_TRUE(get.outcome().ok());
  ASSERT_EQ(get.merged().siblings.size(), 1u);
  EXPECT_THAT(get.StaleReplicas(), ElementsAre("n1"));
  EXPECT_THAT(get.quorum().fallbacks(), ElementsAre("n4"));
  EXPECT_FALSE(get.quorum().strict_overlap());
}

}  // namespace
}  // namespace quorumkv
