// Exponential backoff with full jitter: the wait before retry `attempt`
// (0 for the first retry) is uniform in [0, min(cap, base * 2^attempt)].
// Full jitter spreads the retries of many clients that failed together, so
// they do not come back in waves (the AWS Architecture Blog's analysis).
#ifndef QUORUMKV_CLIENT_BACKOFF_H_
#define QUORUMKV_CLIENT_BACKOFF_H_

#include <cstdint>
#include <random>

#include "absl/time/time.h"

namespace quorumkv {

struct BackoffOptions {
  absl::Duration base = absl::Milliseconds(100);
  absl::Duration cap = absl::Seconds(30);
};

// The ceiling of retry `attempt`'s wait: min(cap, base * 2^attempt).
absl::Duration BackoffCeiling(const BackoffOptions& options, uint32_t attempt);

// A wait drawn uniformly from [0, BackoffCeiling(options, attempt)].
// Not thread-safe (it draws from `random`).
absl::Duration FullJitterBackoff(const BackoffOptions& options, uint32_t attempt,
                                 std::mt19937_64& random);

}  // namespace quorumkv

#endif  // QUORUMKV_CLIENT_BACKOFF_H_
