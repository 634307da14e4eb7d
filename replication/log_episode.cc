#include "replication/log_episode.h"

#include <utility>
#include <vector>

namespace quorumkv {

LogEpisode::LogEpisode(LogLevel level, std::string event, absl::Duration quiet)
    : level_(level), event_(std::move(event)), quiet_(quiet) {}

void LogEpisode::Occurred(absl::Time now, std::initializer_list<LogField> fields) {
  absl::MutexLock lock(&mu_);
  if (open_ && now - last_ >= quiet_) EndLocked(last_);
  last_ = std::max(last_, now);
  ++occurrences_;
  if (open_) return;
  open_ = true;
  open_hint_.store(true, std::memory_order_relaxed);
  began_ = now;
  last_ = now;
  occurrences_ = 1;
  std::vector<LogField> line = {LogField("episode", "begin")};
  line.insert(line.end(), fields.begin(), fields.end());
  LogEvent(level_, event_, line);
}

void LogEpisode::End(absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (open_) EndLocked(now);
}

void LogEpisode::EndIfQuiet(absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (open_ && now - last_ >= quiet_) EndLocked(last_);
}

void LogEpisode::EndLocked(absl::Time now) {
  open_ = false;
  open_hint_.store(false, std::memory_order_relaxed);
  LogEvent(LogLevel::kInfo, event_,
           {LogField("episode", "end"), LogField("occurrences", occurrences_),
            LogField("lasted",
                     absl::FormatDuration(absl::Trunc(std::max(now - began_, absl::ZeroDuration()),
                                                      absl::Milliseconds(1))))});
}

}  // namespace quorumkv
