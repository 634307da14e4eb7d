#include "replication/hlc.h"

#include <algorithm>

namespace quorumkv {

uint64_t HybridClock::Now() {
  const int64_t millis = absl::ToUnixMillis(clock_->Now());
  const uint64_t physical = MakeHlc(static_cast<uint64_t>(std::max<int64_t>(millis, 0)), 0);
  absl::MutexLock lock(&mu_);
  // When the logical part overflows it carries into the physical part, which
  // keeps timestamps strictly increasing at the cost of running a little ahead.
  last_ = std::max(last_ + 1, physical);
  return last_;
}

void HybridClock::Observe(uint64_t remote) {
  const int64_t millis = absl::ToUnixMillis(clock_->Now());
  if (HlcPhysicalMillis(remote) > static_cast<uint64_t>(std::max<int64_t>(millis, 0)) +
                                      static_cast<uint64_t>(kMaxHlcDriftMillis)) {
    return;
  }
  absl::MutexLock lock(&mu_);
  last_ = std::max(last_, remote);
}

}  // namespace quorumkv
