// One log line per episode of a recurring condition, not one per
// occurrence: a full disk refuses every write, an overloaded node sheds
// thousands of requests a second, and a line for each would bury the log
// (and cost the node more while it is already in trouble).
//
// The first occurrence of an episode logs its fields with episode=begin;
// later ones are only counted (without a lock). The episode ends, with one
// line at the same level
//   event=<event> episode=end occurrences=N lasted=1.5s
// when the condition clears (End: a write succeeded again), or when
// `quiet` passed without an occurrence (EndIfQuiet, or the next occurrence,
// which then begins a new episode). Times are those of whichever clock the
// caller reads, the same for every call.
//
// Thread-safe. Lines are written after the episode's lock is released, so
// a slow log (a stalled journal) never holds up other callers' counting.
// open() is one atomic load, for hot paths that end episodes (ask it
// before End or EndIfQuiet).
#ifndef QUORUMKV_REPLICATION_LOG_EPISODE_H_
#define QUORUMKV_REPLICATION_LOG_EPISODE_H_

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "replication/logging.h"

namespace quorumkv {

class LogEpisode {
 public:
  LogEpisode(LogLevel level, std::string event, absl::Duration quiet);
  LogEpisode(const LogEpisode&) = delete;
  LogEpisode& operator=(const LogEpisode&) = delete;

  // Counts an occurrence at `now`; logs `fields` if it begins an episode.
  void Occurred(absl::Time now, std::initializer_list<LogField> fields);
  // Ends an open episode: the condition cleared.
  void End(absl::Time now);
  // Ends an open episode whose last occurrence is `quiet` old.
  void EndIfQuiet(absl::Time now);

  bool open() const { return open_hint_.load(std::memory_order_relaxed); }

 private:
  // Closes the episode; returns its end line's fields.
  std::vector<LogField> EndLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const LogLevel level_;
  const std::string event_;
  const absl::Duration quiet_;
  std::atomic<bool> open_hint_{false};             // open_, for lock-free readers
  std::atomic<int64_t> last_ns_{0};                // the last occurrence, Unix ns
  std::atomic<uint64_t> unlocked_occurrences_{0};  // counted without mu_
  absl::Mutex mu_;
  bool open_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time began_ ABSL_GUARDED_BY(mu_);
  uint64_t occurrences_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_LOG_EPISODE_H_
