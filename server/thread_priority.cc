#include "server/thread_priority.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace quorumkv {

absl::Status LowerThisThreadsPriority(int nice) {
  const auto tid = static_cast<id_t>(syscall(SYS_gettid));
  if (setpriority(PRIO_PROCESS, tid, nice) != 0) {
    return absl::InternalError(
        absl::StrCat("cannot set the nice value of thread ", tid, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace quorumkv
