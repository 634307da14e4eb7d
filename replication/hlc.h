// Hybrid logical clock (Kulkarni et al.): timestamps that follow wall-clock
// time but never go backwards and order causally related events even when
// clocks disagree.
//
// A timestamp packs milliseconds since the Unix epoch in the upper 48 bits and
// a logical counter in the lower 16 bits, so plain integer order is HLC order.
#ifndef QUORUMKV_REPLICATION_HLC_H_
#define QUORUMKV_REPLICATION_HLC_H_

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "replication/clock.h"

namespace quorumkv {

inline constexpr int kHlcLogicalBits = 16;
inline constexpr int64_t kMaxHlcDriftMillis = 24 * 3600 * 1000;

inline uint64_t HlcPhysicalMillis(uint64_t hlc) { return hlc >> kHlcLogicalBits; }
inline uint64_t HlcLogical(uint64_t hlc) { return hlc & ((1u << kHlcLogicalBits) - 1); }
inline uint64_t MakeHlc(uint64_t millis, uint64_t logical) {
  return (millis << kHlcLogicalBits) | logical;
}

// Thread-safe. Does not own `clock`, which must outlive it.
class HybridClock {
 public:
  explicit HybridClock(Clock* clock) : clock_(clock) {}

  // A timestamp greater than every one returned or observed before.
  uint64_t Now();
  // Moves the clock past a timestamp received from another node, unless it
  // is more than kMaxHlcDriftMillis ahead of this node's physical clock (a broken
  // or hostile peer must not drag the clock to its end).
  void Observe(uint64_t remote);

 private:
  Clock* const clock_;
  absl::Mutex mu_;
  uint64_t last_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_HLC_H_
