#include "replication/logging.h"

#include <cstdio>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

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

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kInfo:
      return "I";
    case LogLevel::kWarning:
      return "W";
    case LogLevel::kError:
      return "E";
  }
  return "?";
}

}  // namespace

void SetLogSink(LogSink sink) {
  absl::MutexLock lock(&SinkMutex());
  Sink() = std::move(sink);
}

void Log(LogLevel level, absl::string_view message) {
  absl::MutexLock lock(&SinkMutex());
  if (Sink()) {
    Sink()(level, message);
    return;
  }
  const std::string when = absl::FormatTime("%H:%M:%E3S", absl::Now(), absl::LocalTimeZone());
  std::fprintf(stderr, "%s %s %.*s\n", LevelName(level), when.c_str(),
               static_cast<int>(message.size()), message.data());
}

}  // namespace quorumkv
