// Fail-stop checks of what the code itself guarantees (not of input: bad
// input is a readable INVALID_ARGUMENT, see request_validation.h).
//
//   QKV_INVARIANT(acks <= replies, "more acks than replies");
//
// does nothing while the condition holds. When it does not, what happens
// depends on the process's InvariantMode:
//   kAbort:  the failure is printed, with the context the thread set (the
//            simulator's seed), and the process aborts. The default in
//            debug builds and in the sanitizer builds (scripts/test.sh runs
//            the unit tests and the simulator there); kvsim sets it.
//   kReport: the failure is logged and counted (InvariantViolations, in a
//            ping's answer and in `kvctl status`), and the enclosing
//            function (returning absl::Status or absl::StatusOr<T>) returns
//            INTERNAL naming the check. The default in release builds: a
//            node keeps serving the keys the broken invariant did not touch.
// QKV_INVARIANT_STATUS(cond, msg) is the same check as an expression, for
// code that cannot return from where it checks (a callback, a loop that
// answers each item): OK when it holds, else what the failure returned.
//
// Thread-safe. A check costs one predicted branch while it holds.
#ifndef QUORUMKV_REPLICATION_INVARIANT_H_
#define QUORUMKV_REPLICATION_INVARIANT_H_

#include <cstdint>
#include <string>

#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace quorumkv {

enum class InvariantMode { kAbort, kReport };

// Process-wide. Set before the threads that check start.
void SetInvariantMode(InvariantMode mode);
InvariantMode GetInvariantMode();
// Printed with an aborting failure on the calling thread (the simulator sets
// its seed here); empty by default.
void SetInvariantContext(std::string context);
// Failures counted since the process started (kReport mode).
uint64_t InvariantViolations();

// What a failed check does: aborts, or logs, counts and returns INTERNAL.
absl::Status InvariantFailed(absl::string_view condition, absl::string_view message,
                             const char* file, int line);

}  // namespace quorumkv

#define QKV_INVARIANT_STATUS(cond, msg)         \
  (ABSL_PREDICT_TRUE(cond) ? ::absl::OkStatus() \
                           : ::quorumkv::InvariantFailed(#cond, (msg), __FILE__, __LINE__))

#define QKV_INVARIANT(cond, msg)                                            \
  do {                                                                      \
    if (ABSL_PREDICT_FALSE(!(cond))) {                                      \
      return ::quorumkv::InvariantFailed(#cond, (msg), __FILE__, __LINE__); \
    }                                                                       \
  } while (0)

#endif  // QUORUMKV_REPLICATION_INVARIANT_H_
