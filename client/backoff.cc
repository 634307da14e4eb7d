#include "client/backoff.h"

#include <algorithm>

namespace quorumkv {

absl::Duration BackoffCeiling(const BackoffOptions& options, uint32_t attempt) {
  absl::Duration ceiling = std::max(options.base, absl::ZeroDuration());
  for (uint32_t i = 0; i < attempt && ceiling < options.cap; ++i) ceiling *= 2;
  return std::min(ceiling, options.cap);
}

absl::Duration FullJitterBackoff(const BackoffOptions& options, uint32_t attempt,
                                 std::mt19937_64& random) {
  const int64_t ceiling_us = absl::ToInt64Microseconds(BackoffCeiling(options, attempt));
  if (ceiling_us <= 0) return absl::ZeroDuration();
  std::uniform_int_distribution<int64_t> wait_us(0, ceiling_us);
  return absl::Microseconds(wait_us(random));
}

}  // namespace quorumkv
