#include "replication/logging.h"

#include <atomic>
#include <cstdio>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace quorumkv {
namespace {

// Leaked on purpose: logging must work during static destruction.
absl::Mutex& SinkMutex() {
  static absl::Mutex* mu = new absl::Mutex;
  return *mu;
}

LogSink& Sink() {
  static LogSink* sink = new LogSink;
  return *sink;
}

std::atomic<int> g_min_level{static_cast<int>(LogLevel::kInfo)};

bool NeedsQuotes(absl::string_view value) {
  if (value.empty()) return true;
  for (char c : value) {
    if (c == ' ' || c == '=' || c == '"' || static_cast<unsigned char>(c) < 0x20) return true;
  }
  return false;
}

void AppendValue(absl::string_view value, std::string* line) {
  if (!NeedsQuotes(value)) {
    line->append(value.data(), value.size());
    return;
  }
  line->push_back('"');
  for (char c : value) {
    switch (c) {
      case '"':
        line->append("\\\"");
        break;
      case '\\':
        line->append("\\\\");
        break;
      case '\n':
        line->append("\\n");
        break;
      default:
        line->push_back(static_cast<unsigned char>(c) < 0x20 ? ' ' : c);
    }
  }
  line->push_back('"');
}

}  // namespace

const char* LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "?";
}

absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view name) {
  for (LogLevel level : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarning, LogLevel::kError}) {
    if (name == LogLevelName(level)) return level;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("log level '", name, "' is not one of debug, info, warn, error"));
}

std::string FormatLogLine(absl::string_view event, absl::Span<const LogField> fields) {
  std::string line = "event=";
  AppendValue(event, &line);
  for (const LogField& field : fields) {
    line.push_back(' ');
    line.append(field.key);
    line.push_back('=');
    AppendValue(field.value, &line);
  }
  return line;
}

void SetLogSink(LogSink sink) {
  absl::MutexLock lock(&SinkMutex());
  Sink() = std::move(sink);
}

void SetMinLogLevel(LogLevel level) {
  g_min_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

void LogEvent(LogLevel level, absl::string_view event, absl::Span<const LogField> fields) {
  if (static_cast<int>(level) < g_min_level.load(std::memory_order_relaxed)) return;
  const std::string line = FormatLogLine(event, fields);
  absl::MutexLock lock(&SinkMutex());
  if (Sink()) {
    Sink()(level, line);
    return;
  }
  std::fprintf(stderr, "%s %s\n", LogLevelName(level), line.c_str());
}

}  // namespace quorumkv
