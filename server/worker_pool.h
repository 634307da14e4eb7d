// A fixed set of threads draining a bounded queue: one bulkhead of kvnode.
// Client requests and replica traffic each get their own pool, so one kind
// of load cannot starve the other, and a full queue sheds load
// (RESOURCE_EXHAUSTED) instead of growing without limit.
#ifndef QUORUMKV_SERVER_WORKER_POOL_H_
#define QUORUMKV_SERVER_WORKER_POOL_H_

#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace quorumkv {

// Thread-safe.
class WorkerPool {
 public:
  // `nice` > 0: the threads run at that nice value (thread_priority.h), a
  // pool of background work.
  WorkerPool(std::string name, int threads, size_t max_queued, int nice = 0);
  // StopAndJoin().
  ~WorkerPool();

  // Queues `task`. RESOURCE_EXHAUSTED, without queuing, when max_queued
  // tasks are waiting already, or after Stop.
  absl::Status Submit(std::function<void()> task);
  // Stops accepting tasks; those queued still run.
  void Stop();
  // Stop(), then waits until every queued and running task is done.
  // Idempotent; not to be called from a task of this pool.
  void StopAndJoin();
  size_t queued() const;

 private:
  void Run();

  const std::string name_;
  const size_t max_queued_;
  const int nice_;
  mutable absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_SERVER_WORKER_POOL_H_
