// Failure and slow-node detection: pure, clock-driven.
//
// Each node pings every peer every ping_interval (PingsDue tells whom) and
// feeds the detector what happened, along with the outcome and latency of
// every other call to a peer. A peer is
//   - down     when it refused a connection since its last answer (its
//              process is gone), or when it has not answered for down_after;
//   - suspect  when it has not answered for suspect_after;
//   - slow     when it answers, but the median of its last recent_window
//              latencies exceeds slow_factor x the p99 of its baseline (the
//              baseline_window latencies before those, gathered while it was
//              not slow) and min_slow_latency — a gray failure;
//   - up       otherwise (and before the first ping has had time to fail).
// Only up peers are healthy: sloppy quorum routes around the others.
#ifndef QUORUMKV_REPLICATION_FAILURE_DETECTOR_H_
#define QUORUMKV_REPLICATION_FAILURE_DETECTOR_H_

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace quorumkv {

struct FailureDetectorOptions {
  absl::Duration ping_interval = absl::Milliseconds(100);
  absl::Duration ping_timeout = absl::Milliseconds(300);
  absl::Duration suspect_after = absl::Milliseconds(500);
  absl::Duration down_after = absl::Seconds(2);
  size_t recent_window = 32;
  size_t baseline_window = 128;
  // Samples the recent window needs before "slow" can be declared, and the
  // baseline (a p99 of few samples is their maximum: one hiccup would set it).
  size_t min_recent_samples = 16;
  size_t min_baseline_samples = 64;
  double slow_factor = 1.5;
  absl::Duration min_slow_latency = absl::Milliseconds(5);
};

enum class PeerState { kUp, kSuspect, kSlow, kDown };
const char* PeerStateName(PeerState state);  // "up", "suspect", "slow", "down"

// What the detector knows of one peer, for status and tests.
struct PeerHealth {
  PeerState state = PeerState::kUp;
  absl::Duration recent_median;  // zero until samples exist
  absl::Duration baseline_p99;   // zero until the baseline can judge slowness
  absl::Time last_answer;
};

// Thread-safe.
class FailureDetector {
 public:
  FailureDetector(std::vector<std::string> peers, FailureDetectorOptions options, absl::Time now);

  // Peers to ping now; each is marked as pinged at `now`.
  std::vector<std::string> PingsDue(absl::Time now);

  // A call to `peer` answered (any answer from the peer itself, even an
  // error it returned) after `latency`.
  void OnAnswer(const std::string& peer, absl::Duration latency, absl::Time now);
  // A call to `peer` got no answer: refused (NotSent), timed out or cut.
  void OnNoAnswer(const std::string& peer, const absl::Status& status, absl::Time now);

  PeerState StateOf(const std::string& peer, absl::Time now) const;
  bool Healthy(const std::string& peer, absl::Time now) const {
    return StateOf(peer, now) == PeerState::kUp;
  }
  PeerHealth HealthOf(const std::string& peer, absl::Time now) const;
  const FailureDetectorOptions& options() const { return options_; }

 private:
  struct Peer {
    absl::Time last_answer;
    absl::Time last_ping = absl::InfinitePast();
    bool refused = false;  // refused a connection since its last answer
    std::deque<absl::Duration> recent;
    std::deque<absl::Duration> baseline;
    bool slow = false;
  };
  void UpdateSlow(Peer& peer) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  PeerState StateLocked(const Peer& peer, absl::Time now) const;

  const FailureDetectorOptions options_;
  mutable absl::Mutex mu_;
  std::map<std::string, Peer> peers_ ABSL_GUARDED_BY(mu_);
  mutable std::vector<absl::Duration> scratch_ ABSL_GUARDED_BY(mu_);  // for percentiles
};

// Median and 99th percentile of a window (zero when empty).
absl::Duration Median(const std::deque<absl::Duration>& samples);
absl::Duration P99(const std::deque<absl::Duration>& samples);

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_FAILURE_DETECTOR_H_
