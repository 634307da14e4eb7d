// Minimal diagnostics for the replication core. Lines go to a replaceable
// sink: by default stderr, as "<level> <message>" (the core reads no real
// time: kvnode installs a sink that adds the time, server/stderr_log.h; the
// simulator captures lines into its trace).
#ifndef QUORUMKV_REPLICATION_LOGGING_H_
#define QUORUMKV_REPLICATION_LOGGING_H_

#include <functional>

#include "absl/strings/string_view.h"

namespace quorumkv {

enum class LogLevel { kInfo, kWarning, kError };

using LogSink = std::function<void(LogLevel, absl::string_view)>;

// "I", "W" or "E".
const char* LogLevelName(LogLevel level);

// Thread-safe. Replaces the process-wide sink; an empty sink restores stderr.
void SetLogSink(LogSink sink);
void Log(LogLevel level, absl::string_view message);

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_LOGGING_H_
