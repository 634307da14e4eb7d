#include "client/circuit_breaker.h"

namespace quorumkv {

CircuitBreaker::CircuitBreaker(CircuitBreakerOptions options, Clock* clock)
    : options_(options), clock_(clock) {}

bool CircuitBreaker::Allow() {
  absl::MutexLock lock(&mu_);
  if (!open_) return true;
  if (clock_->Now() < opened_at_ + options_.open_for || probe_out_) return false;
  probe_out_ = true;
  return true;
}

void CircuitBreaker::RecordSuccess() {
  absl::MutexLock lock(&mu_);
  consecutive_failures_ = 0;
  open_ = false;
  probe_out_ = false;
}

void CircuitBreaker::RecordFailure() {
  absl::MutexLock lock(&mu_);
  ++consecutive_failures_;
  if (probe_out_ || consecutive_failures_ >= options_.failures_to_open) {
    open_ = true;
    opened_at_ = clock_->Now();
    probe_out_ = false;
  }
}

void CircuitBreaker::RecordNothing() {
  absl::MutexLock lock(&mu_);
  probe_out_ = false;
}

CircuitBreaker::State CircuitBreaker::state() {
  absl::MutexLock lock(&mu_);
  if (!open_) return State::kClosed;
  return clock_->Now() < opened_at_ + options_.open_for ? State::kOpen : State::kHalfOpen;
}

absl::Time CircuitBreaker::reopens_at() {
  absl::MutexLock lock(&mu_);
  return open_ ? opened_at_ + options_.open_for : absl::InfinitePast();
}

const char* CircuitStateName(CircuitBreaker::State state) {
  switch (state) {
    case CircuitBreaker::State::kClosed:
      return "closed";
    case CircuitBreaker::State::kOpen:
      return "open";
    case CircuitBreaker::State::kHalfOpen:
      return "half-open";
  }
  return "?";
}

}  // namespace quorumkv
