// Runs tasks after a delay, on one thread of its own: how kvnode injects
// latency on a link (the harness's `delay` fault) without blocking a
// reactor or a worker.
#ifndef QUORUMKV_SERVER_DELAY_QUEUE_H_
#define QUORUMKV_SERVER_DELAY_QUEUE_H_

#include <functional>
#include <map>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace quorumkv {

// Thread-safe.
class DelayQueue {
 public:
  explicit DelayQueue(size_t max_pending);
  // StopAndRunAll().
  ~DelayQueue();

  // RESOURCE_EXHAUSTED, without queuing, when max_pending tasks wait;
  // UNAVAILABLE after StopAndRunAll.
  absl::Status RunAfter(absl::Duration delay, std::function<void()> task);
  // Runs every pending task at once, then joins the thread. Idempotent.
  void StopAndRunAll();

 private:
  void Run();

  const size_t max_pending_;
  absl::Mutex mu_;
  std::multimap<absl::Time, std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_SERVER_DELAY_QUEUE_H_
