// Quorum arithmetic: small pure functions, tested exhaustively.
#ifndef QUORUMKV_REPLICATION_QUORUM_H_
#define QUORUMKV_REPLICATION_QUORUM_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace quorumkv {

// OK iff 1 <= value <= n. Otherwise INVALID_ARGUMENT naming the parameter,
// e.g. "W=4 is not in 1..N=3".
absl::Status ValidateQuorumSize(absl::string_view name, uint32_t value, uint32_t n);

// A read quorum of r and a write quorum of w drawn from the same n home
// replicas always share a replica iff r + w > n.
constexpr bool StrictOverlap(uint32_t r, uint32_t w, uint32_t n) { return r + w > n; }

enum class QuorumState {
  kPending,     // not enough successes yet, but still reachable
  kMet,         // at least `required` successes
  kImpossible,  // too many failures: the pending replies cannot make it up
};

// REQUIRES: successes + failures <= targets.
constexpr QuorumState EvaluateQuorum(uint32_t successes, uint32_t failures, uint32_t targets,
                                     uint32_t required) {
  if (successes >= required) return QuorumState::kMet;
  if (targets - failures < required) return QuorumState::kImpossible;
  return QuorumState::kPending;
}

// A quorum that also needs `required_home` of its successes from home
// replicas: `home_successes` so far, and `home_pending` slots still waiting
// on their home replica (the only ones that can add to them).
// REQUIRES: successes + failures <= targets, home_successes <= successes.
constexpr QuorumState EvaluateQuorumWithHomes(uint32_t successes, uint32_t failures,
                                              uint32_t targets, uint32_t required,
                                              uint32_t home_successes, uint32_t home_pending,
                                              uint32_t required_home) {
  const QuorumState overall = EvaluateQuorum(successes, failures, targets, required);
  if (overall == QuorumState::kImpossible) return overall;
  if (home_successes >= required_home) return overall;
  if (home_successes + home_pending < required_home) return QuorumState::kImpossible;
  return QuorumState::kPending;
}

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_QUORUM_H_
