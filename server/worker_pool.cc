#include "server/worker_pool.h"

#include "absl/strings/str_cat.h"
#include "replication/logging.h"
#include "server/thread_priority.h"

namespace quorumkv {

WorkerPool::WorkerPool(std::string name, int threads, size_t max_queued, int nice)
    : name_(std::move(name)), max_queued_(max_queued), nice_(nice) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
}

WorkerPool::~WorkerPool() { StopAndJoin(); }

void WorkerPool::StopAndJoin() {
  Stop();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

absl::Status WorkerPool::Submit(std::function<void()> task) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return absl::ResourceExhaustedError(absl::StrCat(name_, " pool is shutting down"));
  if (queue_.size() >= max_queued_) {
    return absl::ResourceExhaustedError(absl::StrCat("overloaded: ", queue_.size(), " ", name_,
                                                     " requests queued (limit ", max_queued_,
                                                     "); retry later"));
  }
  queue_.push_back(std::move(task));
  return absl::OkStatus();
}

void WorkerPool::Stop() {
  absl::MutexLock lock(&mu_);
  stopping_ = true;
}

size_t WorkerPool::queued() const {
  absl::MutexLock lock(&mu_);
  return queue_.size();
}

void WorkerPool::Run() {
  if (nice_ > 0) {
    // Best effort: at worst the pool runs at the priority of the others.
    if (absl::Status lowered = LowerThisThreadsPriority(nice_); !lowered.ok()) {
      LogEvent(LogLevel::kWarning, "thread_priority_not_lowered",
               {{"thread", absl::StrCat("pool ", name_)}, {"error", lowered.message()}});
    }
  }
  for (;;) {
    std::function<void()> task;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]()
                       ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || !queue_.empty(); };
      mu_.Await(absl::Condition(&ready));
      if (queue_.empty()) return;  // stopping and drained
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

}  // namespace quorumkv
