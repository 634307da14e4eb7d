// Building an index of a store written before the index existed, once
// (segment_index.h, tombstone_index.h).
#ifndef QUORUMKV_STORAGE_INDEX_BUILD_H_
#define QUORUMKV_STORAGE_INDEX_BUILD_H_

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "storage/engine.h"

namespace quorumkv {

// Adds to `batch` the index entries of one stored object (its key and
// encoded bytes). An error stops the build.
using StageIndexEntries =
    absl::FunctionRef<absl::Status(absl::string_view key, absl::string_view bytes, WriteBatch*)>;

// Unless the meta key `complete_key` is there, runs `stage` on every object
// of the data column family, writing what it stages in unsynced batches,
// then writes `complete_key` synced, last: a crash before it builds the
// index again. A no-op once complete.
absl::Status BuildIndexOnce(Engine* engine, absl::string_view complete_key,
                            StageIndexEntries stage);

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_INDEX_BUILD_H_
