// Hinted handoff: a fallback hands the hints it keeps back to their home
// replicas once those are healthy again.
//
// Each Tick (the node calls it every few tens of milliseconds) it
//   - drops the hints whose newest write is older than max_hint_age:
//     counted (durably, per home) and their partition marked for
//     anti-entropy, in one synced write, never silently forgotten — a late
//     hint must not be delivered after tombstones it carries may have been
//     purged; and, with tombstone purge on, the hints created longer ago
//     than max_age_since_creation (tombstone grace minus the replica
//     timeout), however recent their newest write: a hint kept alive by
//     new writes could otherwise carry a value deleted and purged since
//     (docs/semantics.md, "Purging tombstones");
//   - deletes the hints whose delivery was acknowledged since the last tick,
//     if they are unchanged (a hint merged with a newer write since stays
//     for the next round);
//   - pushes further hints to every home the failure detector calls up:
//     a plain replica write, which the home merges (never overwrites), at
//     most max_in_flight per home at once and handoff_bytes_per_second in
//     all (a token bucket).
// Store work happens in Tick only, never on a transport callback thread.
#ifndef QUORUMKV_REPLICATION_HANDOFF_H_
#define QUORUMKV_REPLICATION_HANDOFF_H_

#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "replication/failure_detector.h"
#include "replication/hints.h"
#include "replication/log_episode.h"
#include "replication/transport.h"

namespace quorumkv {

struct HandoffOptions {
  uint64_t bytes_per_second = 16ull << 20;
  size_t max_in_flight = 256;  // per home node
  absl::Duration max_hint_age = absl::Hours(3);
  absl::Duration max_age_since_creation = absl::InfiniteDuration();
  absl::Duration push_timeout = absl::Seconds(2);
};

struct HandoffStats {
  uint64_t delivered = 0;  // hints acked by their home and deleted (since start)
  uint64_t delivered_bytes = 0;
  // Dropped for age, their partitions marked for repair: the hints'
  // durable count, over every life of the node.
  uint64_t expired = 0;
  uint64_t failed_pushes = 0;
};

// Thread-safe; Tick must not run concurrently with itself. Does not own
// its arguments.
class HandoffManager {
 public:
  HandoffManager(std::string self, Hints* hints, Transport* transport,
                 const FailureDetector* detector,
                 std::function<uint32_t(const std::string& key)> partition_of,
                 HandoffOptions options);

  void Tick(absl::Time now);
  HandoffStats stats() const;
  // Drops the hint for (home, key) if it is past either age limit (as
  // ExpireOld would): a read must not serve what handoff would never
  // deliver. True if dropped. Thread-safe, as a Tick.
  bool DropIfExpired(const std::string& home, const std::string& key, absl::Time now);

 private:
  struct Delivery {
    std::string home;
    std::string key;
    Object object;
    uint64_t bytes = 0;
    bool ok = false;
  };
  // Hints dropped per home and tick at most: a backlog of expired hints
  // goes over several ticks, so handoff to other homes goes on meanwhile.
  static constexpr size_t kMaxExpiredPerTick = 1024;

  // Drops the hints of the homes in `summaries` whose newest write is
  // older than max_hint_age, or whose creation is older than
  // max_age_since_creation.
  void ExpireOld(const std::vector<HintSummary>& summaries, absl::Time now);
  // Drops one hint, unless a write newer than `written_before` reached it
  // (false). An error is logged: stop for this tick.
  absl::StatusOr<bool> Drop(const HintInfo& hint, absl::Time written_before, absl::string_view why,
                            absl::Time now);
  // Hints created before it are never delivered (InfinitePast: none).
  absl::Time CreatedCutoff(absl::Time now) const;
  void SettleDeliveries(absl::Time now);
  void Push(const std::string& home, absl::Time now);
  bool TakeTokens(uint64_t bytes, absl::Time now);

  const std::string self_;
  Hints* const hints_;
  Transport* const transport_;
  const FailureDetector* const detector_;
  const std::function<uint32_t(const std::string&)> partition_of_;
  const HandoffOptions options_;

  // Expired hints and hint store errors, logged once per episode.
  LogEpisode expired_log_{LogLevel::kWarning, "hint_expired", absl::Minutes(1)};
  LogEpisode store_error_log_{LogLevel::kError, "hint_store_error", absl::Minutes(1)};

  double tokens_ = 0;
  absl::Time last_refill_ = absl::InfinitePast();

  mutable absl::Mutex mu_;
  std::map<std::string, std::set<std::string>> in_flight_ ABSL_GUARDED_BY(mu_);  // home -> keys
  std::deque<Delivery> finished_ ABSL_GUARDED_BY(mu_);
  HandoffStats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_HANDOFF_H_
