// Starting, watching and signalling the processes of a local cluster.
#ifndef QUORUMKV_TOOLS_KVHARNESS_PROCESS_H_
#define QUORUMKV_TOOLS_KVHARNESS_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace quorumkv {

// Starts argv[0] with `argv` in a new session, stdin from /dev/null, stdout
// and stderr appended to `log_path`, in network namespace `netns` (a name
// of `ip netns`) if one is given. Returns its pid.
absl::StatusOr<pid_t> SpawnDetached(const std::vector<std::string>& argv,
                                    const std::string& log_path, const std::string& netns = "");

enum class PidState { kGone, kRunning, kStopped };
// kGone for a pid that does not exist or is a zombie (exited, not reaped).
PidState StateOf(pid_t pid);
// The process's argv[0] from /proc, or "" if gone.
std::string CommandOf(pid_t pid);
// Reaps `pid` if it is an exited child of this process; no-op otherwise.
void ReapIfChild(pid_t pid);
// Waits until `pid` is gone; false if still there at the deadline.
bool WaitGone(pid_t pid, absl::Time deadline);

// The last `lines` lines of a text file ("" if unreadable).
std::string TailOfFile(const std::string& path, int lines);

// A whole file; NOT_FOUND if it cannot be read.
absl::StatusOr<std::string> ReadTextFile(const std::string& path);
// Writes `contents` to a temporary file and renames it over `path`: a reader
// sees the old file or the new one, never part of one.
absl::Status WriteFileAtomically(const std::string& path, const std::string& contents);

}  // namespace quorumkv

#endif  // QUORUMKV_TOOLS_KVHARNESS_PROCESS_H_
