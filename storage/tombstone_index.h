// The deleted keys of a node's replicas by the time of their newest
// delete, so that tombstone purge finds the tombstones past their grace
// period in work proportional to them, not to the store
// (ReplicaStore::ForEachTombstoneBefore).
//
// An entry per (key, TombstoneTime), in the meta column family:
//   "tomb/" <TombstoneTime: 8 bytes, big-endian> <key>  ->  ""
// written in the same batch as the object that made the key a tombstone.
// A later write that brings the key back to life, or deletes it again,
// leaves the old entry in place (no extra write on the write path): an
// entry is current only while its key's object has that TombstoneTime, and
// the store drops the stale ones it meets while scanning.
//
// Crash semantics: every tombstone has its current entry after any crash
// (same batch). A directory written before the index existed gets it built
// once, when the store opens (BuildIfMissing), the marker that says it is
// complete written last, synced.
#ifndef QUORUMKV_STORAGE_TOMBSTONE_INDEX_H_
#define QUORUMKV_STORAGE_TOMBSTONE_INDEX_H_

#include <cstdint>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "storage/engine.h"

namespace quorumkv::tombstone_index {

void Stage(uint64_t tombstone_time, absl::string_view key, WriteBatch* batch);
void Unstage(uint64_t tombstone_time, absl::string_view key, WriteBatch* batch);

// Visits the entries with a time before `time_before`, oldest first, until
// `visit` returns false.
absl::Status Scan(Engine* engine, uint64_t time_before,
                  absl::FunctionRef<bool(uint64_t tombstone_time, absl::string_view key)> visit);

// Writes the entry of every stored tombstone, unless the index is marked
// complete; then marks it. Reads every object once (a directory from
// before the index); a no-op after.
absl::Status BuildIfMissing(Engine* engine);

}  // namespace quorumkv::tombstone_index

#endif  // QUORUMKV_STORAGE_TOMBSTONE_INDEX_H_
