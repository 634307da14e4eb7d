#include "tools/kvbench/servers.h"

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <system_error>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tools/kvharness/process.h"

namespace quorumkv::bench {
namespace {

// The full path of `program`, or "" if not found on PATH.
std::string FindProgram(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path ? path : "/usr/bin:/bin", ':')) {
    std::string candidate = absl::StrCat(dir, "/", program);
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

}  // namespace

absl::Status Servers::Spawn(const std::vector<std::string>& argv, const std::string& log) {
  std::vector<std::string> resolved = argv;
  resolved[0] = FindProgram(argv[0]);
  if (resolved[0].empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(argv[0], " is not installed (scripts/setup.sh installs it)"));
  }
  absl::StatusOr<pid_t> pid = SpawnDetached(resolved, log);
  if (!pid.ok()) return pid.status();
  pids_.push_back(*pid);
  logs_.push_back(log);
  return absl::OkStatus();
}

void Servers::StopAll(absl::Duration grace) {
  for (pid_t pid : pids_) kill(pid, SIGTERM);
  const absl::Time deadline = absl::Now() + grace;
  for (pid_t pid : pids_) {
    if (!WaitGone(pid, deadline)) {
      kill(pid, SIGKILL);
      WaitGone(pid, absl::Now() + absl::Seconds(5));
    }
    ReapIfChild(pid);
  }
  pids_.clear();
  logs_.clear();
}

absl::Status Servers::CheckAlive() const {
  for (size_t i = 0; i < pids_.size(); ++i) {
    if (StateOf(pids_[i]) == PidState::kGone) {
      return absl::UnavailableError(absl::StrCat("a server process exited; the end of ", logs_[i],
                                                 ":\n", TailOfFile(logs_[i], 15)));
    }
  }
  return absl::OkStatus();
}

absl::Status WaitReady(const Servers& servers, const std::string& what, absl::Duration timeout,
                       const std::function<bool()>& ready) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (ready()) return absl::OkStatus();
    if (absl::Status alive = servers.CheckAlive(); !alive.ok()) return alive;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return absl::DeadlineExceededError(
      absl::StrCat(what, " not ready after ", absl::FormatDuration(timeout)));
}

absl::Status FreshDir(const std::string& dir) {
  std::error_code error;
  std::filesystem::remove_all(dir, error);
  std::filesystem::create_directories(dir, error);
  if (error) return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", error.message()));
  return absl::OkStatus();
}

}  // namespace quorumkv::bench
