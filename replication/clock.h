// Time as the replication core sees it.
//
// Everything in replication/ reads time through a Clock so the same code runs
// against the system clock in kvnode (server/system_clock.h) and against a
// ManualClock in tests and in the deterministic simulator. Nothing in
// replication/ reads the real time itself.
#ifndef QUORUMKV_REPLICATION_CLOCK_H_
#define QUORUMKV_REPLICATION_CLOCK_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace quorumkv {

// Thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time. May jump (NTP, skew injected by the harness); use it for
  // timestamps and deadlines, not to measure short intervals precisely.
  virtual absl::Time Now() = 0;
  // A clock that never jumps back, for the time elapsed on this node only
  // (freshness watermarks, freshness.h): its readings mean nothing to
  // another node or after a restart. A clock that moved back would make
  // watermarks look younger than they are, so every clock says what it
  // has.
  virtual absl::Time Steady() = 0;
};

// A clock that moves only when told to. Thread-safe.
class ManualClock : public Clock {
 public:
  explicit ManualClock(absl::Time start = absl::FromUnixSeconds(1'700'000'000)) : now_(start) {}
  absl::Time Now() override;
  // Now(): a test that Sets the clock back gets no watermark ages
  // (FreshnessWatermarks::AgeOf) until it passes them again.
  absl::Time Steady() override { return Now(); }
  void Advance(absl::Duration d);
  void Set(absl::Time t);

 private:
  absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_CLOCK_H_
