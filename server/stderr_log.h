// The log sink of kvnode: replication/logging.h's lines on stderr (which
// kvharness writes to DIR/logs/<id>.log, and systemd to the journal), each
// led by the UTC time to the millisecond, the level and the node:
//   ts=2026-12-05T23:10:01.546Z level=warn node=n1 event=shedding ...
#ifndef QUORUMKV_SERVER_STDERR_LOG_H_
#define QUORUMKV_SERVER_STDERR_LOG_H_

#include <string>

#include "replication/logging.h"

namespace quorumkv {

// Thread-safe (LogEvent serializes calls).
LogSink StderrSinkFor(std::string node_id);

}  // namespace quorumkv

#endif  // QUORUMKV_SERVER_STDERR_LOG_H_
