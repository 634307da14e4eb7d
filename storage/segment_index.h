// The keys of a node's replicas by Merkle segment and ring hash, so that
// anti-entropy lists the keys of one partition's segment in work
// proportional to them, not to the store (ReplicaStore::
// ForEachObjectInSegment).
//
// An entry per stored key, in the meta column family:
//   "seg/" <segment: 2 bytes, big-endian> <StableHash(key): 8 bytes,
//   big-endian> <key>  ->  ""
// A ring partition is a range of StableHash (Ring::HashRangeOf), so one
// partition's keys of one segment are one range of entries. Both hashes are
// fixed functions of the key: the index does not depend on the ring.
//
// Crash semantics: an entry is written in the same batch as its key's first
// object, and deleted in the same batch as its purged tombstone
// (tombstone_index.h), so after any crash the entries are the stored keys. A directory written
// before the index existed gets it built once, when the store opens (BuildIfMissing): the marker
// that says it is complete is written last, synced, so a crash while building builds it again.
#ifndef QUORUMKV_STORAGE_SEGMENT_INDEX_H_
#define QUORUMKV_STORAGE_SEGMENT_INDEX_H_

#include <cstdint>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "storage/engine.h"

namespace quorumkv::segment_index {

// Adds `key`'s entry to `batch` (with the key's first object).
void Stage(absl::string_view key, WriteBatch* batch);
// Deletes `key`'s entry in `batch` (with the key's object).
void Unstage(absl::string_view key, WriteBatch* batch);

// Visits the keys of `segment` whose StableHash is in [hash_first,
// hash_last], in (hash, key) order, until `visit` returns false.
absl::Status ScanKeys(Engine* engine, uint32_t segment, uint64_t hash_first, uint64_t hash_last,
                      absl::FunctionRef<bool(absl::string_view key)> visit);

// Writes the entry of every stored key, unless the index is marked
// complete; then marks it. Reads every key once (a directory from before
// the index); a no-op after.
absl::Status BuildIfMissing(Engine* engine);

}  // namespace quorumkv::segment_index

#endif  // QUORUMKV_STORAGE_SEGMENT_INDEX_H_
