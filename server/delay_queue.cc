#include "server/delay_queue.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace quorumkv {

DelayQueue::DelayQueue(size_t max_pending) : max_pending_(max_pending) {
  thread_ = std::thread([this] { Run(); });
}

DelayQueue::~DelayQueue() { StopAndRunAll(); }

void DelayQueue::StopAndRunAll() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

absl::Status DelayQueue::RunAfter(absl::Duration delay, std::function<void()> task) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return absl::UnavailableError("node is shutting down");
  if (tasks_.size() >= max_pending_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("too many delayed requests (limit ", max_pending_, ")"));
  }
  tasks_.emplace(absl::Now() + delay, std::move(task));
  return absl::OkStatus();
}

void DelayQueue::Run() {
  for (;;) {
    std::function<void()> task;
    {
      absl::MutexLock lock(&mu_);
      for (;;) {
        if (stopping_ && tasks_.empty()) return;
        const absl::Time next = tasks_.empty() ? absl::InfiniteFuture() : tasks_.begin()->first;
        if (stopping_ || next <= absl::Now()) break;
        auto ready = [this, next]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return stopping_ || (!tasks_.empty() && tasks_.begin()->first < next);
        };
        mu_.AwaitWithDeadline(absl::Condition(&ready), next);
      }
      task = std::move(tasks_.begin()->second);
      tasks_.erase(tasks_.begin());
    }
    task();
  }
}

}  // namespace quorumkv
