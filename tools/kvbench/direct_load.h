// Loading a large key space into quorumkv without the API: kvbench writes
// each stopped kvnode's storage directly, as if one put of every key had
// reached every home replica. At 10M keys the API would take hours here.
#ifndef QUORUMKV_TOOLS_KVBENCH_DIRECT_LOAD_H_
#define QUORUMKV_TOOLS_KVBENCH_DIRECT_LOAD_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"

namespace quorumkv::bench {

// The actor of the loaded writes' dots: not a node's, so no node ever
// issues one of them.
inline constexpr char kLoaderActor[] = "kvbench-load";

using ValueOf = std::function<std::string(uint64_t index)>;
// Keys this node does not get (kvbench --repair-missing); empty: none.
using SkipKey = std::function<bool(uint64_t index)>;

// Writes keys KeyName(0..keys-1) but those `skip` names, with value_of(i),
// and their segment index entries, into the storage of node
// `node_id` at `db_path` (the kvnode must be stopped; it must have run
// once, so its actor exists). Every replica must get the same object, so
// every call of one load passes the same `hlc`: one sibling, dot
// (kLoaderActor, i + 1), timestamp `hlc`. Made durable at the end with one
// synced write, then flushed to table files and compacted. Adds every key
// written to `*loaded`. `watermark_dir` is the node's (kvnode
// --watermark-dir).
absl::Status LoadNodeStorage(const std::string& db_path, const std::string& watermark_dir,
                             const std::string& node_id, uint64_t keys, const ValueOf& value_of,
                             const SkipKey& skip, uint64_t hlc, std::atomic<uint64_t>* loaded);

}  // namespace quorumkv::bench

#endif  // QUORUMKV_TOOLS_KVBENCH_DIRECT_LOAD_H_
