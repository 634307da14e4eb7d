// QuorumSlots: where each slot of a request goes (home or fallback), and
// what its answers make of the quorum.
#include "replication/quorum_slots.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "replication/transport.h"
#include "tests/unit/test_support.h"

namespace quorumkv {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

using test_support::kStart;
const PreferenceList kPrefWithThreeFallbacks = {.home = {"n1", "n2", "n3"},
                                                .fallbacks = {"n4", "n5", "n6"}};

// Slots over kPrefWithThreeFallbacks where every node outside `unhealthy` is healthy.
QuorumSlots Make(uint32_t required, bool sloppy, std::set<std::string> unhealthy = {}) {
  return QuorumSlots(
      kPrefWithThreeFallbacks, required, sloppy,
      [unhealthy](const std::string& node) { return unhealthy.count(node) == 0; }, kStart);
}

// "to" for a home, "to->home" for a fallback standing in for `home`.
std::string Describe(const SlotSend& send) {
  return send.hinted_for.empty() ? send.to : absl::StrCat(send.to, "->", send.hinted_for);
}
std::vector<std::string> Describe(const std::vector<SlotSend>& sends) {
  std::vector<std::string> out;
  for (const SlotSend& s : sends) out.push_back(Describe(s));
  return out;
}
std::optional<std::string> Describe(const std::optional<SlotSend>& send) {
  if (!send) return std::nullopt;
  return Describe(*send);
}

using test_support::kRefused;

// Slots that send to `first_wave` replicas first (the local one counts).
QuorumSlots MakeWave(uint32_t required, uint32_t first_wave, std::set<std::string> unhealthy = {}) {
  return QuorumSlots(
      kPrefWithThreeFallbacks, required, /*sloppy=*/true,
      [unhealthy](const std::string& node) { return unhealthy.count(node) == 0; }, kStart,
      first_wave);
}

TEST(QuorumSlotsTest, AFirstWaveOfRSendsToRMinusTheLocalOne) {
  QuorumSlots slots = MakeWave(2, 2);
  EXPECT_THAT(Describe(slots.Start("n1")), ElementsAre("n2"));
  EXPECT_FALSE(slots.all_answered());
  slots.OnReply("n1", absl::OkStatus(), kStart);
  slots.OnReply("n2", absl::OkStatus(), kStart);
  EXPECT_EQ(slots.state(), QuorumState::kMet);
  EXPECT_TRUE(slots.all_answered()) << "a spare never asked is not waited for";
}

TEST(QuorumSlotsTest, TheFirstWavePrefersHealthyHomes) {
  QuorumSlots slots = MakeWave(2, 2, {"n2"});
  EXPECT_THAT(Describe(slots.Start("n1")), ElementsAre("n3"));
}

TEST(QuorumSlotsTest, AFailedSlotStartsASpareBeforeAnyFallback) {
  QuorumSlots slots = MakeWave(2, 2);
  slots.Start("n1");
  EXPECT_EQ(Describe(slots.OnReply("n2", kRefused, kStart)), "n3");
  slots.OnReply("n1", absl::OkStatus(), kStart);
  EXPECT_EQ(slots.state(), QuorumState::kPending);
  slots.OnReply("n3", absl::OkStatus(), kStart);
  EXPECT_EQ(slots.state(), QuorumState::kMet);
  // With no spare left, the next failure goes to a fallback.
  QuorumSlots other = MakeWave(2, 2);
  other.Start("n1");
  other.OnReply("n2", kRefused, kStart);
  EXPECT_EQ(Describe(other.OnReply("n3", kRefused, kStart)), "n4->n3");
}

TEST(QuorumSlotsTest, AFirstWaveBelowRequiredIsRaisedToIt) {
  QuorumSlots slots = MakeWave(3, 1);
  EXPECT_THAT(Describe(slots.Start("n1")), ElementsAre("n2", "n3"));
}

TEST(QuorumSlotsTest, StartSendsToEveryHomeButTheLocalOne) {
  QuorumSlots slots = Make(2, /*sloppy=*/false);
  EXPECT_THAT(Describe(slots.Start("n1")), ElementsAre("n2", "n3"));
}

TEST(QuorumSlotsTest, StrictRequestSendsToAnUnhealthyHome) {
  QuorumSlots slots = Make(2, /*sloppy=*/false, {"n2"});
  EXPECT_THAT(Describe(slots.Start("n1")), ElementsAre("n2", "n3"));
}

TEST(QuorumSlotsTest, StrictRequestNeverMovesAFailedSlotToAFallback) {
  QuorumSlots slots = Make(2, /*sloppy=*/false);
  slots.Start("n1");
  EXPECT_EQ(slots.OnReply("n2", kRefused, kStart), std::nullopt);
  EXPECT_EQ(slots.OnReply("n4", absl::OkStatus(), kStart), std::nullopt);
  EXPECT_EQ(slots.successes(), 0u);
}

TEST(QuorumSlotsTest, SloppyStartReplacesAnUnhealthyHomeWithAFallback) {
  QuorumSlots slots = Make(2, /*sloppy=*/true, {"n2"});
  EXPECT_THAT(Describe(slots.Start("n1")), ElementsAre("n4->n2", "n3"));
}

TEST(QuorumSlotsTest, SloppyStartTriesAnUnhealthyHomeWhenNoFallbackIsHealthy) {
  QuorumSlots slots = Make(2, /*sloppy=*/true, {"n2", "n4", "n5", "n6"});
  EXPECT_THAT(Describe(slots.Start("n1")), ElementsAre("n2", "n3"));
}

TEST(QuorumSlotsTest, SloppyRequestMovesAFailedSlotToAFallback) {
  QuorumSlots slots = Make(2, /*sloppy=*/true);
  slots.Start("n1");
  EXPECT_EQ(Describe(slots.OnReply("n2", kRefused, kStart)), "n4->n2");
  EXPECT_EQ(slots.state(), QuorumState::kPending);
}

TEST(QuorumSlotsTest, FallbacksAreUsedInPreferenceListOrderEachAtMostOnce) {
  QuorumSlots slots = Make(3, /*sloppy=*/true);
  slots.Start("n1");
  EXPECT_EQ(Describe(slots.OnReply("n2", kRefused, kStart)), "n4->n2");
  EXPECT_EQ(Describe(slots.OnReply("n3", kRefused, kStart)), "n5->n3");
  EXPECT_EQ(Describe(slots.OnReply("n4", kRefused, kStart)), "n6->n2");
  EXPECT_EQ(Describe(slots.OnReply("n5", kRefused, kStart)), std::nullopt);
}

TEST(QuorumSlotsTest, UnhealthyFallbacksAreSkipped) {
  QuorumSlots slots = Make(2, /*sloppy=*/true, {"n2", "n4"});
  EXPECT_THAT(Describe(slots.Start("n1")), ElementsAre("n5->n2", "n3"));
  EXPECT_EQ(Describe(slots.OnReply("n3", kRefused, kStart)), "n6->n3");
}

TEST(QuorumSlotsTest, SloppySlotFailsWhenNoHealthyFallbackIsLeft) {
  QuorumSlots slots = Make(3, /*sloppy=*/true, {"n4", "n5", "n6"});
  slots.Start("n1");
  EXPECT_EQ(slots.OnReply("n2", kRefused, kStart), std::nullopt);
  EXPECT_EQ(slots.state(), QuorumState::kImpossible);
}

TEST(QuorumSlotsTest, QuorumStateCountsSlots) {
  // Replies of n1, n2, n3 in order: '+' success, '-' failure, '.' none yet.
  struct Case {
    uint32_t required;
    std::string replies;
    QuorumState state;
  };
  const Case cases[] = {
      {1, "...", QuorumState::kPending},    {1, "-+.", QuorumState::kMet},
      {1, "--.", QuorumState::kPending},    {1, "---", QuorumState::kImpossible},
      {2, "+..", QuorumState::kPending},    {2, "+-.", QuorumState::kPending},
      {2, "+-+", QuorumState::kMet},        {2, "--.", QuorumState::kImpossible},
      {2, "++.", QuorumState::kMet},        {3, "++.", QuorumState::kPending},
      {3, "-..", QuorumState::kImpossible}, {3, "+++", QuorumState::kMet},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat("required=", c.required, " replies=", c.replies));
    QuorumSlots slots = Make(c.required, /*sloppy=*/false);
    slots.Start("");
    for (size_t i = 0; i < c.replies.size(); ++i) {
      if (c.replies[i] == '.') continue;
      slots.OnReply(kPrefWithThreeFallbacks.home[i],
                    c.replies[i] == '+' ? absl::OkStatus() : kRefused, kStart);
    }
    EXPECT_EQ(slots.state(), c.state);
    EXPECT_EQ(slots.all_answered(), c.replies.find('.') == std::string::npos);
  }
}

TEST(QuorumSlotsTest, ExpirePendingFailsTheSlotsStillWaiting) {
  QuorumSlots slots = Make(2, /*sloppy=*/false);
  slots.Start("n1");
  slots.OnReply("n1", absl::OkStatus(), kStart);
  slots.ExpirePending();
  EXPECT_TRUE(slots.all_answered());
  EXPECT_EQ(slots.state(), QuorumState::kImpossible);
}

// The code of QuorumError after n1 succeeds and n2 and n3 fail with `error`.
absl::StatusCode ErrorCode(QuorumSlots::Kind kind, const absl::Status& error) {
  QuorumSlots slots = Make(2, /*sloppy=*/false);
  slots.Start("n1");
  slots.OnReply("n1", absl::OkStatus(), kStart);
  slots.OnReply("n2", error, kStart);
  slots.OnReply("n3", error, kStart);
  return slots.QuorumError(kind, "acks", "W", "").code();
}

TEST(QuorumSlotsTest, WriteWithAnUnknownOutcomeIsDeadlineExceeded) {
  using K = QuorumSlots::Kind;
  EXPECT_EQ(ErrorCode(K::kWrite, absl::DeadlineExceededError("t")),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(ErrorCode(K::kWrite, absl::CancelledError("c")), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(ErrorCode(K::kWrite, absl::UnavailableError("reset mid-call")),
            absl::StatusCode::kDeadlineExceeded);
}

TEST(QuorumSlotsTest, WriteWithDefiniteFailuresIsUnavailable) {
  using K = QuorumSlots::Kind;
  EXPECT_EQ(ErrorCode(K::kWrite, kRefused), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ErrorCode(K::kWrite, absl::InternalError("disk")), absl::StatusCode::kUnavailable);
}

TEST(QuorumSlotsTest, ReadIsDeadlineExceededOnlyWhenAReplicaTimedOut) {
  using K = QuorumSlots::Kind;
  EXPECT_EQ(ErrorCode(K::kRead, absl::DeadlineExceededError("t")),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(ErrorCode(K::kRead, absl::CancelledError("c")), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ErrorCode(K::kRead, absl::UnavailableError("reset")), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ErrorCode(K::kRead, kRefused), absl::StatusCode::kUnavailable);
}

TEST(QuorumSlotsTest, ExpiredSlotsMakeAReadDeadlineExceeded) {
  QuorumSlots slots = Make(2, /*sloppy=*/false);
  slots.Start("n1");
  slots.OnReply("n1", absl::OkStatus(), kStart);
  slots.ExpirePending();
  const absl::Status error = slots.QuorumError(QuorumSlots::Kind::kRead, "replies", "R", "");
  EXPECT_EQ(error.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(error.message()), HasSubstr("n2: no answer in time"));
}

TEST(QuorumSlotsTest, DefiniteFailuresThatMakeTheQuorumImpossibleAreUnavailable) {
  QuorumSlots slots = Make(3, /*sloppy=*/false);
  slots.Start("n1");
  slots.OnReply("n2", kRefused, kStart);
  ASSERT_EQ(slots.state(), QuorumState::kImpossible);
  const absl::Status error = slots.QuorumError(QuorumSlots::Kind::kWrite, "acks", "W", "; note");
  EXPECT_EQ(error.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(error.message()), StartsWith("quorum not met: got 0 of W=3 acks"));
  EXPECT_THAT(std::string(error.message()), HasSubstr("n2: unreachable (connection refused)"));
  EXPECT_THAT(std::string(error.message()), HasSubstr("n3: no answer yet"));
  EXPECT_THAT(std::string(error.message()), HasSubstr("; note"));
}

TEST(QuorumSlotsTest, QuorumErrorNamesTheHomeAFailedFallbackStoodInFor) {
  QuorumSlots slots = Make(3, /*sloppy=*/true, {"n5", "n6"});
  slots.Start("n1");
  slots.OnReply("n2", kRefused, kStart);
  slots.OnReply("n4", kRefused, kStart);
  const absl::Status error = slots.QuorumError(QuorumSlots::Kind::kWrite, "acks", "W", "");
  EXPECT_THAT(std::string(error.message()), HasSubstr("n4 (for n2): unreachable"));
}

TEST(QuorumSlotsTest, FillQuorumInfoListsRepliesFallbacksAndFailures) {
  QuorumSlots slots = Make(2, /*sloppy=*/true, {"n2"});
  slots.Start("n1");  // n4 for n2, n3
  slots.OnReply("n1", absl::OkStatus(), kStart + absl::Milliseconds(1));
  slots.OnReply("n3", kRefused, kStart + absl::Milliseconds(2));  // n5 for n3
  slots.OnReply("n4", absl::OkStatus(), kStart + absl::Milliseconds(3));
  pb::QuorumInfo info;
  slots.FillQuorumInfo(&info);
  EXPECT_EQ(info.required(), 2u);
  EXPECT_EQ(info.n(), 3u);
  EXPECT_TRUE(info.sloppy());
  ASSERT_EQ(info.replied_size(), 2);
  EXPECT_EQ(info.replied(0).node(), "n1");
  EXPECT_EQ(info.replied(0).latency_us(), 1000u);
  EXPECT_FALSE(info.replied(0).fallback());
  EXPECT_THAT(info.replied(0).hinted_for(), IsEmpty());
  EXPECT_EQ(info.replied(1).node(), "n4");
  EXPECT_EQ(info.replied(1).latency_us(), 3000u);
  EXPECT_TRUE(info.replied(1).fallback());
  EXPECT_EQ(info.replied(1).hinted_for(), "n2");
  EXPECT_THAT(info.fallbacks(), ElementsAre("n4"));
  EXPECT_THAT(info.failed(), ElementsAre("n3"));
}

TEST(QuorumSlotsTest, FillQuorumInfoOfAStrictRequestIsNotSloppy) {
  QuorumSlots slots = Make(1, /*sloppy=*/false);
  slots.Start("n1");
  pb::QuorumInfo info;
  slots.FillQuorumInfo(&info);
  EXPECT_FALSE(info.sloppy());
  EXPECT_EQ(info.required(), 1u);
  EXPECT_THAT(info.replied(), IsEmpty());
}

TEST(QuorumSlotsTest, HomeSuccessesExcludeFallbacks) {
  QuorumSlots slots = Make(2, /*sloppy=*/true, {"n2"});
  slots.Start("n1");
  slots.OnReply("n1", absl::OkStatus(), kStart);
  slots.OnReply("n4", absl::OkStatus(), kStart);
  EXPECT_EQ(slots.successes(), 2u);
  EXPECT_EQ(slots.home_successes(), 1u);
}

TEST(QuorumSlotsTest, AnsweredTellsWhichHomeAFallbackAnsweredFor) {
  QuorumSlots slots = Make(2, /*sloppy=*/true, {"n2"});
  slots.Start("n1");
  slots.OnReply("n4", absl::OkStatus(), kStart);
  std::string home;
  EXPECT_TRUE(slots.Answered("n4", &home));
  EXPECT_EQ(home, "n2");
  EXPECT_FALSE(slots.Answered("n2"));
  EXPECT_FALSE(slots.Answered("n3"));
}

TEST(QuorumSlotsTest, DuplicateRepliesAreIgnored) {
  QuorumSlots slots = Make(3, /*sloppy=*/true);
  slots.Start("n1");
  slots.OnReply("n2", absl::OkStatus(), kStart);
  slots.OnReply("n2", absl::OkStatus(), kStart);
  EXPECT_EQ(slots.OnReply("n2", kRefused, kStart), std::nullopt);
  EXPECT_EQ(slots.successes(), 1u);
  EXPECT_EQ(slots.state(), QuorumState::kPending);
}

TEST(QuorumSlotsTest, RepliesFromNodesNoSlotWaitsOnAreIgnored) {
  QuorumSlots slots = Make(1, /*sloppy=*/true, {"n2"});
  slots.Start("n1");  // n4 stands in for n2: nothing went to n2
  EXPECT_EQ(slots.OnReply("n9", absl::OkStatus(), kStart), std::nullopt);
  EXPECT_EQ(slots.OnReply("n5", absl::OkStatus(), kStart), std::nullopt);
  EXPECT_EQ(slots.OnReply("n2", absl::OkStatus(), kStart), std::nullopt);
  EXPECT_EQ(slots.successes(), 0u);
}

}  // namespace
}  // namespace quorumkv

namespace quorumkv {
namespace {

TEST(AttemptDeadlineTest, AHomeReplicaOfASloppyRequestGetsHalfTheTimeLeft) {
  const absl::Time deadline = kStart + absl::Seconds(2);
  EXPECT_EQ(AttemptDeadline(SlotSend{.to = "n2"}, /*may_fall_back=*/true, kStart, deadline),
            kStart + absl::Seconds(1));
}

TEST(AttemptDeadlineTest, AFallbackAStrictRequestOrAPastDeadlineGetAllOfIt) {
  const absl::Time deadline = kStart + absl::Seconds(2);
  EXPECT_EQ(AttemptDeadline(SlotSend{.to = "n4", .hinted_for = "n2"}, true, kStart, deadline),
            deadline);
  EXPECT_EQ(AttemptDeadline(SlotSend{.to = "n2"}, /*may_fall_back=*/false, kStart, deadline),
            deadline);
  EXPECT_EQ(AttemptDeadline(SlotSend{.to = "n2"}, true, deadline + absl::Seconds(1), deadline),
            deadline);
}

}  // namespace
}  // namespace quorumkv
