#include "client/backoff.h"

#include <gtest/gtest.h>

namespace quorumkv {
namespace {

TEST(BackoffTest, TheCeilingDoublesFromTheBaseUpToTheCap) {
  const BackoffOptions options;  // 100 ms, 30 s
  EXPECT_EQ(BackoffCeiling(options, 0), absl::Milliseconds(100));
  EXPECT_EQ(BackoffCeiling(options, 1), absl::Milliseconds(200));
  EXPECT_EQ(BackoffCeiling(options, 8), absl::Milliseconds(25600));
  EXPECT_EQ(BackoffCeiling(options, 9), absl::Seconds(30));
  EXPECT_EQ(BackoffCeiling(options, 4000), absl::Seconds(30)) << "no overflow";
}

TEST(BackoffTest, WaitsAreSpreadOverTheWholeRangeFromZero) {
  const BackoffOptions options;
  std::mt19937_64 random(42);
  absl::Duration lowest = absl::InfiniteDuration(), highest = absl::ZeroDuration();
  for (int i = 0; i < 2000; ++i) {
    const absl::Duration wait = FullJitterBackoff(options, 3, random);
    ASSERT_GE(wait, absl::ZeroDuration());
    ASSERT_LE(wait, absl::Milliseconds(800));
    lowest = std::min(lowest, wait);
    highest = std::max(highest, wait);
  }
  // Full jitter, not "ceiling plus a little": the draws cover [0, 800 ms].
  EXPECT_LT(lowest, absl::Milliseconds(20));
  EXPECT_GT(highest, absl::Milliseconds(780));
}

TEST(BackoffTest, AZeroBaseNeverWaits) {
  std::mt19937_64 random(1);
  EXPECT_EQ(FullJitterBackoff({.base = absl::ZeroDuration()}, 5, random), absl::ZeroDuration());
}

}  // namespace
}  // namespace quorumkv
