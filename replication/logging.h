// Minimal diagnostics for the replication core. Lines go to a replaceable
// sink (stderr by default; the simulator captures them into its trace).
#ifndef QUORUMKV_REPLICATION_LOGGING_H_
#define QUORUMKV_REPLICATION_LOGGING_H_

#include <functional>

#include "absl/strings/string_view.h"

namespace quorumkv {

enum class LogLevel { kInfo, kWarning, kError };

using LogSink = std::function<void(LogLevel, absl::string_view)>;

// Thread-safe. Replaces the process-wide sink; an empty sink restores stderr.
void SetLogSink(LogSink sink);
void Log(LogLevel level, absl::string_view message);

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_LOGGING_H_
