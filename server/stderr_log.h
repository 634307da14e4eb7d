// The log sink of kvnode: replication/logging.h's lines on stderr, each with
// the local time to the millisecond.
#ifndef QUORUMKV_SERVER_STDERR_LOG_H_
#define QUORUMKV_SERVER_STDERR_LOG_H_

#include "replication/logging.h"

namespace quorumkv {

// "<level> <HH:MM:SS.mmm> <message>". Thread-safe (Log serializes calls).
LogSink TimestampedStderrSink();

}  // namespace quorumkv

#endif  // QUORUMKV_SERVER_STDERR_LOG_H_
