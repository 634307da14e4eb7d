// When a client hedges a read (sends it to a second node while the first
// has not answered), as in "The Tail at Scale" and Cassandra's speculative
// retry: after the p95 of its recent read latencies, and only while hedges
// stay within a share of its reads (10% by default), so a slow cluster does
// not get twice the load.
//
// Thread-safe. Pure logic: the caller measures and sends.
#ifndef QUORUMKV_CLIENT_HEDGE_POLICY_H_
#define QUORUMKV_CLIENT_HEDGE_POLICY_H_

#include <cstddef>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace quorumkv {

struct HedgeOptions {
  bool enabled = true;
  size_t window = 256;          // latencies kept, the most recent
  size_t min_samples = 20;      // no hedging before this many
  double max_extra_load = 0.1;  // hedges per read, at most, over time
  double burst = 10;            // hedges that may be saved up
  absl::Duration min_delay = absl::Milliseconds(1);
};

class HedgePolicy {
 public:
  explicit HedgePolicy(HedgeOptions options = {});

  // A read is starting: earns it max_extra_load of a hedge. Returns how long
  // to wait for the first node before hedging, or nullopt: do not hedge
  // (disabled, too few samples yet).
  std::optional<absl::Duration> OnReadStart();
  // Spends one hedge; false when the budget is spent.
  bool TakeHedge();
  // The latency of a read that succeeded (its first answer).
  void RecordLatency(absl::Duration latency);

  uint64_t hedges_sent();

 private:
  const HedgeOptions options_;
  absl::Mutex mu_;
  std::vector<absl::Duration> latencies_ ABSL_GUARDED_BY(mu_);  // a ring of `window`
  size_t next_ ABSL_GUARDED_BY(mu_) = 0;
  bool stale_ ABSL_GUARDED_BY(mu_) = false;  // samples arrived since p95_ was computed
  absl::Duration p95_ ABSL_GUARDED_BY(mu_);
  double budget_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t hedges_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace quorumkv

#endif  // QUORUMKV_CLIENT_HEDGE_POLICY_H_
