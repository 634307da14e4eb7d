// FailureDetector as a pure state machine: fed answers, silences and
// refusals at explicit times, never a clock.
#include "replication/failure_detector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

#include "replication/transport.h"
#include "tests/unit/test_support.h"

namespace quorumkv {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

using test_support::kStart;
const absl::Duration kFast = absl::Milliseconds(1);
const absl::Duration kSlow = absl::Milliseconds(50);

// Peers "p" and "q" with default options; "p" answers when the test says.
class FailureDetectorTest : public ::testing::Test {
 protected:
  FailureDetectorTest() : detector_({"p", "q"}, FailureDetectorOptions(), kStart) {}

  // `count` answers of `latency`, 10 ms apart: never a silence.
  void Answer(int count, absl::Duration latency) {
    for (int i = 0; i < count; ++i) {
      now_ += absl::Milliseconds(10);
      detector_.OnAnswer("p", latency, now_);
    }
  }
  // A baseline of `latency`: 32 answers fill the recent window, 64 more
  // move into the baseline.
  void AnswerBaseline(absl::Duration latency) { Answer(32 + 64, latency); }
  PeerState State() const { return detector_.StateOf("p", now_); }

  FailureDetector detector_;
  absl::Time now_ = kStart;
};

TEST_F(FailureDetectorTest, NewPeerIsUp) {
  EXPECT_EQ(detector_.StateOf("p", kStart), PeerState::kUp);
  EXPECT_TRUE(detector_.Healthy("p", kStart));
}

TEST_F(FailureDetectorTest, SilenceLongerThanSuspectAfterMakesAPeerSuspect) {
  EXPECT_EQ(detector_.StateOf("p", kStart + absl::Milliseconds(500)), PeerState::kUp);
  EXPECT_EQ(detector_.StateOf("p", kStart + absl::Milliseconds(501)), PeerState::kSuspect);
  EXPECT_FALSE(detector_.Healthy("p", kStart + absl::Milliseconds(501)));
}

TEST_F(FailureDetectorTest, SilenceLongerThanDownAfterMakesAPeerDown) {
  EXPECT_EQ(detector_.StateOf("p", kStart + absl::Seconds(2)), PeerState::kSuspect);
  EXPECT_EQ(detector_.StateOf("p", kStart + absl::Milliseconds(2001)), PeerState::kDown);
}

TEST_F(FailureDetectorTest, AnAnswerBringsASuspectPeerBackUp) {
  const absl::Time later = kStart + absl::Seconds(1);
  ASSERT_EQ(detector_.StateOf("p", later), PeerState::kSuspect);
  detector_.OnAnswer("p", kFast, later);
  EXPECT_EQ(detector_.StateOf("p", later), PeerState::kUp);
  EXPECT_EQ(detector_.HealthOf("p", later).last_answer, later);
}

TEST_F(FailureDetectorTest, AnAnswerBringsADownPeerBackUp) {
  const absl::Time later = kStart + absl::Seconds(5);
  ASSERT_EQ(detector_.StateOf("p", later), PeerState::kDown);
  detector_.OnAnswer("p", kFast, later);
  EXPECT_EQ(detector_.StateOf("p", later), PeerState::kUp);
}

TEST_F(FailureDetectorTest, ARefusedConnectionMakesAPeerDownAtOnce) {
  detector_.OnNoAnswer("p", NotSentError("unreachable (connection refused)"), kStart);
  EXPECT_EQ(detector_.StateOf("p", kStart), PeerState::kDown);
  EXPECT_EQ(detector_.StateOf("q", kStart), PeerState::kUp);
}

TEST_F(FailureDetectorTest, AnAnswerAfterARefusalBringsThePeerBackUp) {
  detector_.OnNoAnswer("p", NotSentError("unreachable (connection refused)"), kStart);
  detector_.OnAnswer("p", kFast, kStart + absl::Milliseconds(1));
  EXPECT_EQ(detector_.StateOf("p", kStart + absl::Milliseconds(1)), PeerState::kUp);
}

TEST_F(FailureDetectorTest, FailuresOtherThanARefusalDoNotMakeAPeerDown) {
  const absl::Status not_refusals[] = {
      absl::DeadlineExceededError("timed out"),
      absl::CancelledError("cut"),
      absl::UnavailableError("connection refused"),  // not NotSent: it may have left
      NotSentError("this node is shutting down"),
  };
  for (const absl::Status& status : not_refusals) {
    detector_.OnNoAnswer("p", status, kStart);
    EXPECT_EQ(detector_.StateOf("p", kStart), PeerState::kUp) << status;
  }
}

TEST_F(FailureDetectorTest, PingsDueReturnsEachPeerOncePerPingInterval) {
  EXPECT_THAT(detector_.PingsDue(kStart), ElementsAre("p", "q"));
  EXPECT_THAT(detector_.PingsDue(kStart + absl::Milliseconds(99)), IsEmpty());
  EXPECT_THAT(detector_.PingsDue(kStart + absl::Milliseconds(100)), ElementsAre("p", "q"));
  EXPECT_THAT(detector_.PingsDue(kStart + absl::Milliseconds(100)), IsEmpty());
}

TEST_F(FailureDetectorTest, SlowAnswersMakeAPeerSlowOnceTheyAreHalfTheRecentWindow) {
  AnswerBaseline(kFast);
  Answer(15, kSlow);
  EXPECT_EQ(State(), PeerState::kUp);
  Answer(1, kSlow);
  EXPECT_EQ(State(), PeerState::kSlow);
  EXPECT_FALSE(detector_.Healthy("p", now_));
  EXPECT_EQ(detector_.HealthOf("p", now_).recent_median, kSlow);
  EXPECT_EQ(detector_.HealthOf("p", now_).baseline_p99, kFast);
}

TEST_F(FailureDetectorTest, FastAnswersBringASlowPeerBackUp) {
  AnswerBaseline(kFast);
  Answer(32, kSlow);
  ASSERT_EQ(State(), PeerState::kSlow);
  Answer(1, kFast);
  EXPECT_EQ(State(), PeerState::kSlow) << "one fast answer is not a recovery";
  Answer(31, kFast);
  EXPECT_EQ(State(), PeerState::kUp);
}

TEST_F(FailureDetectorTest, ASlowSpellDoesNotBecomeTheBaseline) {
  AnswerBaseline(kFast);
  Answer(200, kSlow);  // more than the baseline window
  ASSERT_EQ(State(), PeerState::kSlow);
  EXPECT_EQ(detector_.HealthOf("p", now_).baseline_p99, kFast);
}

TEST_F(FailureDetectorTest, BaselineP99IsZeroUntilTheBaselineHasMinBaselineSamples) {
  Answer(32 + 63, kFast);
  EXPECT_EQ(detector_.HealthOf("p", now_).baseline_p99, absl::ZeroDuration());
  Answer(1, kFast);
  EXPECT_EQ(detector_.HealthOf("p", now_).baseline_p99, kFast);
}

TEST_F(FailureDetectorTest, ABaselineOfTooFewSamplesNeverDeclaresSlow) {
  Answer(20, kFast);
  Answer(40, kSlow);  // the baseline holds 28 samples
  EXPECT_EQ(detector_.HealthOf("p", now_).recent_median, kSlow);
  EXPECT_EQ(State(), PeerState::kUp);
}

TEST_F(FailureDetectorTest, AnswersUnderMinSlowLatencyAreNeverSlow) {
  AnswerBaseline(absl::Microseconds(100));
  Answer(32, absl::Milliseconds(3));  // 30x the baseline, but under 5 ms
  EXPECT_EQ(detector_.HealthOf("p", now_).recent_median, absl::Milliseconds(3));
  EXPECT_EQ(State(), PeerState::kUp);
}

TEST_F(FailureDetectorTest, AnAnswerThatEndsASilenceIsNotALatencySample) {
  const absl::Time later = kStart + absl::Seconds(1);
  ASSERT_EQ(detector_.StateOf("p", later), PeerState::kSuspect);
  detector_.OnAnswer("p", absl::Seconds(1), later);
  EXPECT_EQ(detector_.HealthOf("p", later).recent_median, absl::ZeroDuration());
}

TEST_F(FailureDetectorTest, AnAnswerAfterARefusalIsNotALatencySample) {
  detector_.OnNoAnswer("p", NotSentError("unreachable (connection refused)"), kStart);
  detector_.OnAnswer("p", absl::Seconds(1), kStart + absl::Milliseconds(1));
  EXPECT_EQ(detector_.HealthOf("p", kStart).recent_median, absl::ZeroDuration());
}

TEST_F(FailureDetectorTest, UnknownPeersAreUpAndTheirAnswersIgnored) {
  detector_.OnAnswer("stranger", kFast, kStart);
  detector_.OnNoAnswer("stranger", NotSentError("connection refused"), kStart);
  EXPECT_EQ(detector_.StateOf("stranger", kStart), PeerState::kUp);
  EXPECT_EQ(detector_.HealthOf("stranger", kStart).recent_median, absl::ZeroDuration());
}

std::deque<absl::Duration> MillisecondsFrom1To(int n) {
  std::deque<absl::Duration> samples;
  for (int i = n; i >= 1; --i) samples.push_back(absl::Milliseconds(i));  // unsorted
  return samples;
}

TEST(PercentileTest, MedianOfAnOddWindowIsItsMiddleSample) {
  EXPECT_EQ(Median(MillisecondsFrom1To(1)), absl::Milliseconds(1));
  EXPECT_EQ(Median(MillisecondsFrom1To(5)), absl::Milliseconds(3));
  EXPECT_EQ(Median({absl::Milliseconds(9), absl::Milliseconds(1), absl::Milliseconds(4)}),
            absl::Milliseconds(4));
}

TEST(PercentileTest, P99OfAThousandSamplesLeavesOutTheTopTen) {
  EXPECT_EQ(P99(MillisecondsFrom1To(1000)), absl::Milliseconds(991));
}

TEST(PercentileTest, P99OfFewerThanAHundredSamplesIsTheirMaximum) {
  EXPECT_EQ(P99(MillisecondsFrom1To(64)), absl::Milliseconds(64));
}

TEST(PercentileTest, EmptyWindowIsZero) {
  EXPECT_EQ(Median({}), absl::ZeroDuration());
  EXPECT_EQ(P99({}), absl::ZeroDuration());
}

TEST(PeerStateNameTest, NamesEveryState) {
  EXPECT_STREQ(PeerStateName(PeerState::kUp), "up");
  EXPECT_STREQ(PeerStateName(PeerState::kSuspect), "suspect");
  EXPECT_STREQ(PeerStateName(PeerState::kSlow), "slow");
  EXPECT_STREQ(PeerStateName(PeerState::kDown), "down");
}

}  // namespace
}  // namespace quorumkv
