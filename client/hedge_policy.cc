#include "client/hedge_policy.h"

#include <algorithm>

namespace quorumkv {
namespace {}  // namespace

HedgePolicy::HedgePolicy(HedgeOptions options) : options_(options) {
  latencies_.reserve(options_.window);
}

std::optional<absl::Duration> HedgePolicy::OnReadStart() {
  if (!options_.enabled) return std::nullopt;
  absl::MutexLock lock(&mu_);
  budget_ = std::min(options_.burst, budget_ + options_.max_extra_load);
  if (latencies_.size() < options_.min_samples || latencies_.empty()) return std::nullopt;
  if (stale_) {
    // A partial sort of at most `window` durations, only after new samples.
    std::vector<absl::Duration> sorted = latencies_;
    const size_t rank = std::min(sorted.size() - 1, sorted.size() * 95 / 100);
    std::nth_element(sorted.begin(), sorted.begin() + rank, sorted.end());
    p95_ = sorted[rank];
    stale_ = false;
  }
  return std::max(p95_, options_.min_delay);
}

bool HedgePolicy::TakeHedge() {
  absl::MutexLock lock(&mu_);
  if (budget_ < 1) return false;
  budget_ -= 1;
  ++hedges_;
  return true;
}

void HedgePolicy::RecordLatency(absl::Duration latency) {
  absl::MutexLock lock(&mu_);
  if (options_.window == 0) return;
  if (latencies_.size() < options_.window) {
    latencies_.push_back(latency);
  } else {
    latencies_[next_] = latency;
    next_ = (next_ + 1) % options_.window;
  }
  stale_ = true;
}

uint64_t HedgePolicy::hedges_sent() {
  absl::MutexLock lock(&mu_);
  return hedges_;
}

}  // namespace quorumkv
