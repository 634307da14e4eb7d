// kvctl --session FILE: a client session (client/session.h) kept in a file
// between invocations, so a script's commands share read-your-writes and
// monotonic reads.
//
// The file holds the session's token. Commands of one session take turns:
// Open holds an exclusive lock (flock on FILE.lock) until the SessionFile
// is destroyed, so two concurrent kvctl runs cannot each record a write and
// lose the other's. Save replaces the file atomically (write FILE.tmp,
// fsync, rename): a crash leaves the old session or the new one.
#ifndef QUORUMKV_TOOLS_KVCTL_SESSION_FILE_H_
#define QUORUMKV_TOOLS_KVCTL_SESSION_FILE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "client/session.h"

namespace quorumkv::kvctl {

// Not thread-safe; one per process.
class SessionFile {
 public:
  // A missing or empty file is a new session. INVALID_ARGUMENT naming the
  // file for one that holds no session token.
  static absl::StatusOr<std::unique_ptr<SessionFile>> Open(const std::string& path);
  ~SessionFile();

  Session* session() { return &session_; }
  absl::Status Save();

 private:
  SessionFile(std::string path, int lock_fd, Session session);

  const std::string path_;
  const int lock_fd_;
  Session session_;
};

}  // namespace quorumkv::kvctl

#endif  // QUORUMKV_TOOLS_KVCTL_SESSION_FILE_H_
