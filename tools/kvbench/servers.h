// The server processes one target started: spawned detached with their
// output in log files, stopped together (SIGTERM, then SIGKILL).
#ifndef QUORUMKV_TOOLS_KVBENCH_SERVERS_H_
#define QUORUMKV_TOOLS_KVBENCH_SERVERS_H_

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace quorumkv::bench {

// Not thread-safe. Stops what it started when destroyed.
class Servers {
 public:
  Servers() = default;
  Servers(const Servers&) = delete;
  Servers& operator=(const Servers&) = delete;
  ~Servers() { StopAll(); }

  // Starts argv (argv[0] looked up on PATH if it has no '/'), output to
  // `log`. FAILED_PRECONDITION naming the program if it is not installed.
  absl::Status Spawn(const std::vector<std::string>& argv, const std::string& log);
  void StopAll(absl::Duration grace = absl::Seconds(10));
  const std::vector<pid_t>& pids() const { return pids_; }
  // UNAVAILABLE with the tail of every log if a process died.
  absl::Status CheckAlive() const;

 private:
  std::vector<pid_t> pids_;
  std::vector<std::string> logs_;
};

// Polls `ready` every 50 ms until it is true or `timeout` passes
// (DEADLINE_EXCEEDED naming `what`), or `servers` lost a process.
absl::Status WaitReady(const Servers& servers, const std::string& what, absl::Duration timeout,
                       const std::function<bool()>& ready);

// Removes and recreates `dir`.
absl::Status FreshDir(const std::string& dir);

}  // namespace quorumkv::bench

#endif  // QUORUMKV_TOOLS_KVBENCH_SERVERS_H_
