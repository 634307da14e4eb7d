// A circuit breaker per node: after `failures_to_open` consecutive
// failures the breaker opens and the client stops sending to the node; after
// `open_for` it is half-open and lets one request through as a probe; the
// probe's success closes it, its failure opens it again for `open_for`.
// So a dead node costs one timeout per `open_for`, not one per request.
//
// A failure is the node's, not the cluster's: it could not be reached or
// did not answer in time. A coordinator's "quorum not met" is an answer.
//
// Thread-safe. Reads time only through the Clock it is given, which must
// outlive it.
#ifndef QUORUMKV_CLIENT_CIRCUIT_BREAKER_H_
#define QUORUMKV_CLIENT_CIRCUIT_BREAKER_H_

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "replication/clock.h"

namespace quorumkv {

struct CircuitBreakerOptions {
  uint32_t failures_to_open = 3;
  absl::Duration open_for = absl::Seconds(5);
};

class CircuitBreaker {
 public:
  enum class State { kClosed, kOpen, kHalfOpen };

  CircuitBreaker(CircuitBreakerOptions options, Clock* clock);

  // True if a request may go to the node now. In half-open, true once: the
  // caller's request is the probe, and others are refused until it reports.
  bool Allow();
  void RecordSuccess();
  void RecordFailure();
  // A request Allow() let through ended without telling anything of the
  // node (cancelled, or never sent): a half-open breaker may probe again.
  void RecordNothing();

  State state();
  // When an open breaker turns half-open (for a caller choosing whom to wait for).
  absl::Time reopens_at();

 private:
  const CircuitBreakerOptions options_;
  Clock* const clock_;
  absl::Mutex mu_;
  uint32_t consecutive_failures_ ABSL_GUARDED_BY(mu_) = 0;
  bool open_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time opened_at_ ABSL_GUARDED_BY(mu_);
  bool probe_out_ ABSL_GUARDED_BY(mu_) = false;  // half-open, its probe sent
};

const char* CircuitStateName(CircuitBreaker::State state);

}  // namespace quorumkv

#endif  // QUORUMKV_CLIENT_CIRCUIT_BREAKER_H_
