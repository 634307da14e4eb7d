#include "tools/kvharness/process.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

namespace quorumkv {

absl::StatusOr<pid_t> SpawnDetached(const std::vector<std::string>& argv,
                                    const std::string& log_path, const std::string& netns) {
  const std::string netns_path = netns.empty() ? "" : absl::StrCat("/var/run/netns/", netns);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0)
    return absl::InternalError(absl::StrCat("cannot open ", log_path, ": ", strerror(errno)));
  // The child reports a failed exec through this pipe; a successful exec
  // closes it (O_CLOEXEC), so once the parent reads EOF the process runs
  // argv[0] and not a copy of this one.
  int exec_pipe[2];
  if (pipe2(exec_pipe, O_CLOEXEC) != 0) {
    close(log);
    return absl::InternalError(absl::StrCat("pipe: ", strerror(errno)));
  }
  const pid_t pid = fork();
  if (pid == 0) {
    close(exec_pipe[0]);
    setsid();
    const int null = open("/dev/null", O_RDONLY);
    dup2(null, STDIN_FILENO);
    dup2(log, STDOUT_FILENO);
    dup2(log, STDERR_FILENO);
    if (!netns_path.empty()) {
      const int ns = open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
      if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) {
        const int error = errno;
        [[maybe_unused]] ssize_t unused = write(exec_pipe[1], &error, sizeof(error));
        _exit(127);
      }
    }
    execv(args[0], args.data());
    const int error = errno;
    [[maybe_unused]] ssize_t unused = write(exec_pipe[1], &error, sizeof(error));
    _exit(127);
  }
  close(log);
  close(exec_pipe[1]);
  if (pid < 0) {
    close(exec_pipe[0]);
    return absl::InternalError(absl::StrCat("fork: ", strerror(errno)));
  }
  int error = 0;
  ssize_t n;
  do {
    n = read(exec_pipe[0], &error, sizeof(error));
  } while (n < 0 && errno == EINTR);
  close(exec_pipe[0]);
  if (n > 0) {
    waitpid(pid, nullptr, 0);
    return absl::FailedPreconditionError(
        absl::StrCat("cannot run ", argv[0], ": ", strerror(error)));
  }
  return pid;
}

PidState StateOf(pid_t pid) {
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  if (!stat || !std::getline(stat, line)) return PidState::kGone;
  // The state follows the command name, which is in parentheses and may
  // itself contain spaces or parentheses.
  const size_t close = line.rfind(')');
  if (close == std::string::npos || close + 2 >= line.size()) return PidState::kGone;
  switch (line[close + 2]) {
    case 'Z':
    case 'X':
      return PidState::kGone;
    case 'T':
    case 't':
      return PidState::kStopped;
    default:
      return PidState::kRunning;
  }
}

std::string CommandOf(pid_t pid) {
  std::ifstream cmdline(absl::StrCat("/proc/", pid, "/cmdline"));
  std::string argv0;
  if (cmdline) std::getline(cmdline, argv0, '\0');
  return argv0;
}

void ReapIfChild(pid_t pid) { waitpid(pid, nullptr, WNOHANG); }

bool WaitGone(pid_t pid, absl::Time deadline) {
  // A pidfd turns readable when the process exits, child of ours or not.
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) return StateOf(pid) == PidState::kGone;
  pollfd exited{.fd = pidfd, .events = POLLIN, .revents = 0};
  int ready;
  do {
    const int64_t left = std::max<int64_t>(absl::ToInt64Milliseconds(deadline - absl::Now()), 0);
    ready = poll(&exited, 1, static_cast<int>(left));
  } while (ready < 0 && errno == EINTR);
  close(pidfd);
  ReapIfChild(pid);
  return ready > 0;
}

std::string TailOfFile(const std::string& path, int lines) {
  std::ifstream in(path);
  std::deque<std::string> tail;
  std::string line;
  while (std::getline(in, line)) {
    tail.push_back(line);
    if (static_cast<int>(tail.size()) > lines) tail.pop_front();
  }
  return absl::StrJoin(tail, "\n");
}

absl::StatusOr<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::Status WriteFileAtomically(const std::string& path, const std::string& contents) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << contents;
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", tmp));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot rename ", tmp, ": ", strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace quorumkv
