#include "replication/failure_detector.h"

#include <algorithm>
#include <vector>

#include "replication/transport.h"

namespace quorumkv {
namespace {

// `scratch` holds the copy that is partially sorted; reusing one spares an
// allocation on every answer.
absl::Duration Percentile(const std::deque<absl::Duration>& samples, double fraction,
                          std::vector<absl::Duration>& scratch) {
  if (samples.empty()) return absl::ZeroDuration();
  scratch.assign(samples.begin(), samples.end());
  const size_t rank = std::min(scratch.size() - 1, static_cast<size_t>(fraction * scratch.size()));
  std::nth_element(scratch.begin(), scratch.begin() + rank, scratch.end());
  return scratch[rank];
}

constexpr double kMedian = 0.5;
constexpr double kP99 = 0.99;

}  // namespace

absl::Duration Median(const std::deque<absl::Duration>& samples) {
  std::vector<absl::Duration> scratch;
  return Percentile(samples, kMedian, scratch);
}

absl::Duration P99(const std::deque<absl::Duration>& samples) {
  std::vector<absl::Duration> scratch;
  return Percentile(samples, kP99, scratch);
}

const char* PeerStateName(PeerState state) {
  switch (state) {
    case PeerState::kUp:
      return "up";
    case PeerState::kSuspect:
      return "suspect";
    case PeerState::kSlow:
      return "slow";
    case PeerState::kDown:
      return "down";
  }
  return "?";
}

FailureDetector::FailureDetector(std::vector<std::string> peers, FailureDetectorOptions options,
                                 absl::Time now)
    : options_(options) {
  // Every peer starts with the benefit of the doubt: as if it had just
  // answered.
  for (std::string& p : peers) peers_[std::move(p)].last_answer = now;
}

std::vector<std::string> FailureDetector::PingsDue(absl::Time now) {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> due;
  for (auto& [id, peer] : peers_) {
    if (now - peer.last_ping < options_.ping_interval) continue;
    peer.last_ping = now;
    due.push_back(id);
  }
  return due;
}

void FailureDetector::OnAnswer(const std::string& peer_id, absl::Duration latency, absl::Time now) {
  absl::MutexLock lock(&mu_);
  auto it = peers_.find(peer_id);
  if (it == peers_.end()) return;
  Peer& peer = it->second;
  // An answer that ends a silence (a pause, a partition) took as long as
  // the silence: a failure's measure, not a latency to learn from.
  const PeerState before = StateLocked(peer, now);
  peer.last_answer = std::max(peer.last_answer, now);
  peer.refused = false;
  if (before == PeerState::kSuspect || before == PeerState::kDown) return;
  peer.recent.push_back(latency);
  if (peer.recent.size() > options_.recent_window) {
    // The oldest recent sample becomes baseline, unless the peer is slow:
    // a slow spell must not become the new normal.
    if (!peer.slow) peer.baseline.push_back(peer.recent.front());
    peer.recent.pop_front();
    if (peer.baseline.size() > options_.baseline_window) peer.baseline.pop_front();
  }
  UpdateSlow(peer);
}

void FailureDetector::OnNoAnswer(const std::string& peer_id, const absl::Status& status,
                                 absl::Time) {
  absl::MutexLock lock(&mu_);
  auto it = peers_.find(peer_id);
  if (it == peers_.end()) return;
  // A refused connection is certain: nothing listens there.
  if (IsNotSent(status) && status.message().find("refused") != absl::string_view::npos) {
    it->second.refused = true;
  }
}

void FailureDetector::UpdateSlow(Peer& peer) const {
  if (peer.recent.size() < options_.min_recent_samples ||
      peer.baseline.size() < options_.min_baseline_samples) {
    peer.slow = false;
    return;
  }
  // Slow: a recent median over both min_slow_latency and slow_factor times
  // the baseline's p99. The baseline (the longer window) is ranked only when
  // the first test passes, which is rare: this runs on every ping answer.
  const absl::Duration recent_median = Percentile(peer.recent, kMedian, scratch_);
  peer.slow = recent_median > options_.min_slow_latency &&
              recent_median > options_.slow_factor * Percentile(peer.baseline, kP99, scratch_);
}

PeerState FailureDetector::StateLocked(const Peer& peer, absl::Time now) const {
  const absl::Duration silent = now - peer.last_answer;
  if (peer.refused || silent > options_.down_after) return PeerState::kDown;
  if (silent > options_.suspect_after) return PeerState::kSuspect;
  return peer.slow ? PeerState::kSlow : PeerState::kUp;
}

PeerState FailureDetector::StateOf(const std::string& peer_id, absl::Time now) const {
  absl::MutexLock lock(&mu_);
  auto it = peers_.find(peer_id);
  return it == peers_.end() ? PeerState::kUp : StateLocked(it->second, now);
}

PeerHealth FailureDetector::HealthOf(const std::string& peer_id, absl::Time now) const {
  absl::MutexLock lock(&mu_);
  auto it = peers_.find(peer_id);
  if (it == peers_.end()) return PeerHealth();
  const Peer& peer = it->second;
  return PeerHealth{.state = StateLocked(peer, now),
                    .recent_median = Median(peer.recent),
                    .baseline_p99 = peer.baseline.size() < options_.min_baseline_samples
                                        ? absl::ZeroDuration()
                                        : P99(peer.baseline),
                    .last_answer = peer.last_answer};
}

}  // namespace quorumkv
