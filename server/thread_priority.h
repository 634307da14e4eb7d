// Background work at a lower CPU priority than client requests: kvnode's
// anti-entropy ticker and the pool that answers exchanges run niced, so on
// a busy machine the scheduler serves client requests first (RocksDB lowers
// its compaction threads the same way). Linux only: the nice value of one
// thread (setpriority on its thread id).
#ifndef QUORUMKV_SERVER_THREAD_PRIORITY_H_
#define QUORUMKV_SERVER_THREAD_PRIORITY_H_

#include "absl/status/status.h"

namespace quorumkv {

// The nice value of background threads (0 is a client thread's, 19 the
// lowest).
inline constexpr int kBackgroundNice = 10;

// Sets the calling thread's nice value to `nice` (raising it needs no
// privilege). INTERNAL with the errno text if the kernel refuses.
absl::Status LowerThisThreadsPriority(int nice);

}  // namespace quorumkv

#endif  // QUORUMKV_SERVER_THREAD_PRIORITY_H_
