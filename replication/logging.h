// The node's log: one line per event, with key=value fields (logfmt):
//
//   event=hint_expired episode=begin home=n3 partition=17 why="..."
//
// The core reads no real time: a sink (replaceable, process-wide) adds the
// time and where the line comes from. kvnode's sink (server/node_log.h)
// writes "ts=... level=... node=n1 " before it; the simulator captures the
// lines into its trace; by default "<level> <line>" goes to stderr.
//
// Recurring conditions (disk full, shedding, hint expiry, many siblings)
// log once per episode through LogEpisode (log_episode.h), never once per
// occurrence.
//
// Thread-safe: lines are formatted by the calling thread and handed to the
// sink under one lock, so they never interleave.
#ifndef QUORUMKV_REPLICATION_LOGGING_H_
#define QUORUMKV_REPLICATION_LOGGING_H_

#include <functional>
#include <initializer_list>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace quorumkv {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

// "debug", "info", "warn", "error".
const char* LogLevelName(LogLevel level);
// The inverse of LogLevelName; INVALID_ARGUMENT naming the four otherwise.
absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view name);

// One key=value field. The value is anything absl::StrCat takes.
struct LogField {
  LogField(absl::string_view key, const absl::AlphaNum& value) : key(key), value(value.Piece()) {}
  std::string key;
  std::string value;
};

// "event=NAME k=v ...": a value is quoted (with \" and \\ escaped, and
// newlines as \n) when it is empty or holds a space, '=', '"' or a control
// character.
std::string FormatLogLine(absl::string_view event, absl::Span<const LogField> fields);

// Receives each line at or above the minimum level, with its level.
using LogSink = std::function<void(LogLevel, absl::string_view line)>;

// Replaces the process-wide sink; an empty sink restores stderr.
void SetLogSink(LogSink sink);
// Events below `level` are dropped unformatted. Default: kInfo.
void SetMinLogLevel(LogLevel level);

void LogEvent(LogLevel level, absl::string_view event, absl::Span<const LogField> fields);
inline void LogEvent(LogLevel level, absl::string_view event,
                     std::initializer_list<LogField> fields) {
  LogEvent(level, event, absl::Span<const LogField>(fields.begin(), fields.size()));
}

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_LOGGING_H_
