#include "client/hedge_policy.h"

#include <gtest/gtest.h>

namespace quorumkv {
namespace {

TEST(HedgePolicyTest, NoHedgingUntilEnoughSamplesThenAfterTheP95) {
  HedgePolicy policy({.min_samples = 20});
  EXPECT_FALSE(policy.OnReadStart().has_value());
  for (int i = 1; i <= 100; ++i) policy.RecordLatency(absl::Milliseconds(i));
  std::optional<absl::Duration> delay = policy.OnReadStart();
  ASSERT_TRUE(delay.has_value());
  EXPECT_GE(*delay, absl::Milliseconds(94));
  EXPECT_LE(*delay, absl::Milliseconds(97));
}

TEST(HedgePolicyTest, TheWindowForgetsOldLatencies) {
  HedgePolicy policy({.window = 32, .min_samples = 8});
  for (int i = 0; i < 32; ++i) policy.RecordLatency(absl::Seconds(1));
  for (int i = 0; i < 32; ++i) policy.RecordLatency(absl::Milliseconds(2));
  EXPECT_EQ(*policy.OnReadStart(), absl::Milliseconds(2));
}

TEST(HedgePolicyTest, HedgesStayWithinTheirShareOfReads) {
  HedgePolicy policy({.min_samples = 0, .max_extra_load = 0.1, .burst = 2});
  int hedges = 0;
  for (int read = 0; read < 1000; ++read) {
    policy.OnReadStart();
    hedges += policy.TakeHedge() ? 1 : 0;  // every read slow: each wants a hedge
  }
  EXPECT_GE(hedges, 99);
  EXPECT_LE(hedges, 100);
  EXPECT_EQ(policy.hedges_sent(), static_cast<uint64_t>(hedges));
}

TEST(HedgePolicyTest, DisabledNeverHedges) {
  HedgePolicy policy({.enabled = false, .min_samples = 0});
  policy.RecordLatency(absl::Milliseconds(5));
  EXPECT_FALSE(policy.OnReadStart().has_value());
}

}  // namespace
}  // namespace quorumkv
