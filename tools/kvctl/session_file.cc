#include "tools/kvctl/session_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace quorumkv::kvctl {
namespace {

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::InvalidArgumentError(
      absl::StrCat("--session: cannot ", what, " ", path, ": ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<SessionFile>> SessionFile::Open(const std::string& path) {
  const std::string lock_path = path + ".lock";
  const int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0) return Errno("create", lock_path);
  if (::flock(lock_fd, LOCK_EX) != 0) {
    absl::Status status = Errno("lock", lock_path);
    ::close(lock_fd);
    return status;
  }
  std::ifstream in(path);
  std::stringstream text;
  if (in) text << in.rdbuf();
  absl::StatusOr<Session> session = Session::FromToken(absl::StripAsciiWhitespace(text.str()));
  if (!session.ok()) {
    ::close(lock_fd);
    return absl::InvalidArgumentError(
        absl::StrCat("--session ", path, " holds no session: ", session.status().message()));
  }
  return std::unique_ptr<SessionFile>(new SessionFile(path, lock_fd, *std::move(session)));
}

SessionFile::SessionFile(std::string path, int lock_fd, Session session)
    : path_(std::move(path)), lock_fd_(lock_fd), session_(std::move(session)) {}

SessionFile::~SessionFile() { ::close(lock_fd_); }  // releases the lock

absl::Status SessionFile::Save() {
  const std::string tmp = path_ + ".tmp";
  const std::string token = session_.Token() + "\n";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("create", tmp);
  const bool written =
      ::write(fd, token.data(), token.size()) == static_cast<ssize_t>(token.size()) &&
      ::fsync(fd) == 0;
  absl::Status status = written ? absl::OkStatus() : Errno("write", tmp);
  ::close(fd);
  if (status.ok() && ::rename(tmp.c_str(), path_.c_str()) != 0) status = Errno("replace", path_);
  return status;
}

}  // namespace quorumkv::kvctl
