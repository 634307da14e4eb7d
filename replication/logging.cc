#include "replication/logging.h"

#include <cstdio>
#include <string>

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

}  // namespace

const char* LogLevelName(LogLevel level) {
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
  std::fprintf(stderr, "%s %.*s\n", LogLevelName(level), static_cast<int>(message.size()),
               message.data());
}

}  // namespace quorumkv
