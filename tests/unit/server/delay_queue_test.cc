#include "server/delay_queue.h"

#include <atomic>

#include "gtest/gtest.h"

namespace quorumkv {
namespace {

TEST(DelayQueueTest, StopRunsEveryPendingTaskAtOnceThenRefusesNewOnes) {
  DelayQueue queue(/*max_pending=*/10);
  std::atomic<int> ran{0};
  ASSERT_TRUE(queue.RunAfter(absl::Hours(1), [&] { ++ran; }).ok());
  ASSERT_TRUE(queue.RunAfter(absl::Hours(2), [&] { ++ran; }).ok());
  queue.StopAndRunAll();
  EXPECT_EQ(ran.load(), 2);
  EXPECT_EQ(queue.RunAfter(absl::ZeroDuration(), [&] { ++ran; }).code(),
            absl::StatusCode::kUnavailable);
  queue.StopAndRunAll();  // idempotent
  EXPECT_EQ(ran.load(), 2);
}

TEST(DelayQueueTest, PastItsLimitRefusesWithoutQueuing) {
  DelayQueue queue(/*max_pending=*/1);
  std::atomic<int> ran{0};
  ASSERT_TRUE(queue.RunAfter(absl::Hours(1), [&] { ++ran; }).ok());
  absl::Status full = queue.RunAfter(absl::Hours(1), [&] { ++ran; });
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(full.message().find("limit 1"), std::string::npos) << full;
  queue.StopAndRunAll();
  EXPECT_EQ(ran.load(), 1);
}

}  // namespace
}  // namespace quorumkv
