#include "client/circuit_breaker.h"

#include <gtest/gtest.h>

namespace quorumkv {
namespace {

using State = CircuitBreaker::State;

TEST(CircuitBreakerTest, OpensAfterThreeFailuresInARowAndProbesOnceAfterFiveSeconds) {
  ManualClock clock;
  CircuitBreaker breaker({}, &clock);
  breaker.RecordFailure();
  breaker.RecordFailure();
  EXPECT_TRUE(breaker.Allow()) << "two failures do not open it";
  breaker.RecordFailure();
  EXPECT_EQ(breaker.state(), State::kOpen);
  EXPECT_FALSE(breaker.Allow());
  clock.Advance(absl::Seconds(5) - absl::Milliseconds(1));
  EXPECT_FALSE(breaker.Allow());
  clock.Advance(absl::Milliseconds(1));
  EXPECT_EQ(breaker.state(), State::kHalfOpen);
  EXPECT_TRUE(breaker.Allow()) << "the probe";
  EXPECT_FALSE(breaker.Allow()) << "one probe at a time";
  breaker.RecordSuccess();
  EXPECT_EQ(breaker.state(), State::kClosed);
  EXPECT_TRUE(breaker.Allow());
}

TEST(CircuitBreakerTest, AFailedProbeOpensItForAnotherFiveSeconds) {
  ManualClock clock;
  CircuitBreaker breaker({}, &clock);
  for (int i = 0; i < 3; ++i) breaker.RecordFailure();
  clock.Advance(absl::Seconds(5));
  ASSERT_TRUE(breaker.Allow());
  breaker.RecordFailure();
  EXPECT_EQ(breaker.state(), State::kOpen);
  EXPECT_FALSE(breaker.Allow());
  clock.Advance(absl::Seconds(5));
  EXPECT_TRUE(breaker.Allow());
}

TEST(CircuitBreakerTest, AProbeThatEndsWithoutNewsLetsAnotherProbeThrough) {
  // A hedged read's leg cancelled, or allowed and never sent: the probe
  // must not stay out for good (the node would be shut out forever).
  ManualClock clock;
  CircuitBreaker breaker({}, &clock);
  for (int i = 0; i < 3; ++i) breaker.RecordFailure();
  clock.Advance(absl::Seconds(5));
  ASSERT_TRUE(breaker.Allow());
  ASSERT_FALSE(breaker.Allow());
  breaker.RecordNothing();
  EXPECT_EQ(breaker.state(), State::kHalfOpen);
  EXPECT_TRUE(breaker.Allow()) << "another probe";
}

TEST(CircuitBreakerTest, ASuccessResetsTheCount) {
  ManualClock clock;
  CircuitBreaker breaker({}, &clock);
  breaker.RecordFailure();
  breaker.RecordFailure();
  breaker.RecordSuccess();
  breaker.RecordFailure();
  breaker.RecordFailure();
  EXPECT_EQ(breaker.state(), State::kClosed) << "failures must be consecutive";
}

}  // namespace
}  // namespace quorumkv
