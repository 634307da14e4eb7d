#include "server/stderr_log.h"

#include <cstdio>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace quorumkv {

LogSink TimestampedStderrSink() {
  return [](LogLevel level, absl::string_view message) {
    const std::string when = absl::FormatTime("%H:%M:%E3S", absl::Now(), absl::LocalTimeZone());
    std::fprintf(stderr, "%s %s %.*s\n", LogLevelName(level), when.c_str(),
                 static_cast<int>(message.size()), message.data());
  };
}

}  // namespace quorumkv
