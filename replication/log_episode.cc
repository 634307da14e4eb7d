#include "replication/log_episode.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

namespace quorumkv {

LogEpisode::LogEpisode(LogLevel level, std::string event, absl::Duration quiet)
    : level_(level), event_(std::move(event)), quiet_(quiet) {}

void LogEpisode::Occurred(absl::Time now, std::initializer_list<LogField> fields) {
  // Inside an open episode that is not quiet: counted without the lock.
  if (open_hint_.load(std::memory_order_acquire) &&
      now - absl::FromUnixNanos(last_ns_.load(std::memory_order_relaxed)) < quiet_) {
    unlocked_occurrences_.fetch_add(1, std::memory_order_relaxed);
    int64_t last = last_ns_.load(std::memory_order_relaxed);
    const int64_t at = absl::ToUnixNanos(now);
    while (at > last && !last_ns_.compare_exchange_weak(last, at, std::memory_order_relaxed)) {
    }
    return;
  }
  std::optional<std::vector<LogField>> ended;
  std::vector<LogField> began;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time last = absl::FromUnixNanos(last_ns_.load(std::memory_order_relaxed));
    if (open_ && now - last < quiet_) {  // another thread began it meanwhile
      ++occurrences_;
      return;
    }
    if (open_) ended = EndLocked(last);
    open_ = true;
    began_ = now;
    last_ns_.store(absl::ToUnixNanos(now), std::memory_order_relaxed);
    occurrences_ = 1;
    unlocked_occurrences_.store(0, std::memory_order_relaxed);
    open_hint_.store(true, std::memory_order_release);
  }
  began.reserve(fields.size() + 1);
  began.emplace_back("episode", "begin");
  began.insert(began.end(), fields.begin(), fields.end());
  if (ended) LogEvent(level_, event_, *ended);
  LogEvent(level_, event_, began);
}

void LogEpisode::End(absl::Time now) {
  std::optional<std::vector<LogField>> ended;
  {
    absl::MutexLock lock(&mu_);
    if (open_) ended = EndLocked(now);
  }
  if (ended) LogEvent(level_, event_, *ended);
}

void LogEpisode::EndIfQuiet(absl::Time now) {
  std::optional<std::vector<LogField>> ended;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time last = absl::FromUnixNanos(last_ns_.load(std::memory_order_relaxed));
    if (open_ && now - last >= quiet_) ended = EndLocked(last);
  }
  if (ended) LogEvent(level_, event_, *ended);
}

std::vector<LogField> LogEpisode::EndLocked(absl::Time now) {
  open_ = false;
  open_hint_.store(false, std::memory_order_release);
  const uint64_t occurrences =
      occurrences_ + unlocked_occurrences_.exchange(0, std::memory_order_relaxed);
  const absl::Duration lasted =
      absl::Trunc(std::max(now - began_, absl::ZeroDuration()), absl::Milliseconds(1));
  return {LogField("episode", "end"), LogField("occurrences", occurrences),
          LogField("lasted", absl::FormatDuration(lasted))};
}

}  // namespace quorumkv
