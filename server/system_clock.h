// The real clock, kept out of replication/ as leveldb keeps PosixEnv out of
// its core: the core reads time only through replication/clock.h.
#ifndef QUORUMKV_SERVER_SYSTEM_CLOCK_H_
#define QUORUMKV_SERVER_SYSTEM_CLOCK_H_

#include <atomic>
#include <chrono>
#include <cstdint>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "replication/clock.h"

namespace quorumkv {

// The process's real clock, optionally shifted by a fixed offset (kvnode's
// --clock-skew-ms) and by one the harness sets while the node runs (its
// `skew` fault). Thread-safe.
class SystemClock : public Clock {
 public:
  explicit SystemClock(absl::Duration offset = absl::ZeroDuration()) : offset_(offset) {}
  absl::Time Now() override {
    return absl::Now() + offset_ + absl::Nanoseconds(injected_ns_.load(std::memory_order_relaxed));
  }
  // The monotonic clock, untouched by either offset (or by NTP).
  absl::Time Steady() override {
    return absl::FromUnixNanos(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
  }
  void SetInjectedSkew(absl::Duration skew) {
    injected_ns_.store(absl::ToInt64Nanoseconds(skew), std::memory_order_relaxed);
  }

 private:
  const absl::Duration offset_;
  std::atomic<int64_t> injected_ns_{0};
};

}  // namespace quorumkv

#endif  // QUORUMKV_SERVER_SYSTEM_CLOCK_H_
