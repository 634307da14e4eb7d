#include "tests/integration/command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/time/clock.h"

namespace quorumkv::testing {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::string BinDir() {
  return std::filesystem::read_symlink("/proc/self/exe").parent_path().string();
}

CommandResult RunCommand(const std::vector<std::string>& argv, absl::Duration timeout) {
  char out_path[] = "/tmp/qkv-cmd-out-XXXXXX";
  char err_path[] = "/tmp/qkv-cmd-err-XXXXXX";
  const int out = mkstemp(out_path);
  const int err = mkstemp(err_path);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    execv(args[0], args.data());
    _exit(127);
  }
  close(out);
  close(err);
  CommandResult result;
  // A pidfd becomes readable when the child exits: wait on it, not a timer.
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  pollfd exited{.fd = pidfd, .events = POLLIN, .revents = 0};
  const absl::Time deadline = absl::Now() + timeout;
  int ready;
  do {
    const int64_t left = absl::ToInt64Milliseconds(deadline - absl::Now());
    ready = poll(&exited, 1, static_cast<int>(std::max<int64_t>(left, 0)));
  } while (ready < 0 && errno == EINTR);
  if (ready == 0) kill(pid, SIGKILL);
  close(pidfd);
  int status = 0;
  waitpid(pid, &status, 0);
  if (ready == 0) status = -1;
  if (status != -1 && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  result.out = Slurp(out_path);
  result.err = Slurp(err_path);
  unlink(out_path);
  unlink(err_path);
  return result;
}

}  // namespace quorumkv::testing
