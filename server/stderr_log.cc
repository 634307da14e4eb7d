#include "server/stderr_log.h"

#include <cstdio>
#include <utility>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace quorumkv {

LogSink StderrSinkFor(std::string node_id) {
  return [node_id = std::move(node_id)](LogLevel level, absl::string_view line) {
    const std::string when =
        absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
    std::fprintf(stderr, "ts=%s level=%s node=%s %.*s\n", when.c_str(), LogLevelName(level),
                 node_id.c_str(), static_cast<int>(line.size()), line.data());
  };
}

}  // namespace quorumkv
