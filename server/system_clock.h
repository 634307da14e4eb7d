// The real clock, kept out of replication/ as leveldb keeps PosixEnv out of
// its core: the core reads time only through replication/clock.h.
#ifndef QUORUMKV_SERVER_SYSTEM_CLOCK_H_
#define QUORUMKV_SERVER_SYSTEM_CLOCK_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "replication/clock.h"

namespace quorumkv {

// The process's real clock, optionally shifted by a fixed offset (the
// harness's `skew` fault). Thread-safe.
class SystemClock : public Clock {
 public:
  explicit SystemClock(absl::Duration offset = absl::ZeroDuration()) : offset_(offset) {}
  absl::Time Now() override { return absl::Now() + offset_; }

 private:
  const absl::Duration offset_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_SERVER_SYSTEM_CLOCK_H_
