// WorkerPool: tasks run, a full queue sheds, and a background pool's
// threads run niced (thread_priority.h).
#include "server/worker_pool.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "absl/synchronization/notification.h"
#include "server/thread_priority.h"

namespace quorumkv {
namespace {

int ThisThreadsNice() { return getpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid))); }

TEST(WorkerPoolTest, ABackgroundPoolRunsItsTasksNiced) {
  WorkerPool background("repair", 1, 4, kBackgroundNice);
  WorkerPool plain("replica", 1, 4);
  int background_nice = -100, plain_nice = -100;
  ASSERT_TRUE(background.Submit([&] { background_nice = ThisThreadsNice(); }).ok());
  ASSERT_TRUE(plain.Submit([&] { plain_nice = ThisThreadsNice(); }).ok());
  // StopAndJoin runs the queued tasks to the end; the joins order their
  // writes before the reads below (for ThreadSanitizer too, which does not
  // see inside the system Abseil's synchronization).
  background.StopAndJoin();
  plain.StopAndJoin();
  EXPECT_EQ(background_nice, kBackgroundNice);
  EXPECT_EQ(plain_nice, ThisThreadsNice());  // the creator's
}

TEST(WorkerPoolTest, AFullQueueShedsWithResourceExhausted) {
  WorkerPool pool("p", 1, 1);
  absl::Notification release, started;
  ASSERT_TRUE(pool.Submit([&] {
                    started.Notify();
                    release.WaitForNotificationWithTimeout(absl::Seconds(30));
                  })
                  .ok());
  started.WaitForNotificationWithTimeout(absl::Seconds(30));
  ASSERT_TRUE(pool.Submit([] {}).ok());  // queued
  EXPECT_EQ(pool.Submit([] {}).code(), absl::StatusCode::kResourceExhausted);
  release.Notify();
}

}  // namespace
}  // namespace quorumkv
