// The two store-side steps of tombstone purge (docs/semantics.md, "Purging
// tombstones"), which anti-entropy (anti_entropy.h) runs around a round's
// exchanges: when the round starts, list the tombstones past the grace of
// the partitions it covers; once all exchanges of a partition ended well,
// purge the listed ones still unchanged and remember them
// (NodeContext::purged_keys).
#ifndef QUORUMKV_REPLICATION_TOMBSTONE_PURGE_H_
#define QUORUMKV_REPLICATION_TOMBSTONE_PURGE_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "replication/node_context.h"
#include "replication/replica_store.h"

namespace quorumkv {

// Tombstones a round sets out to purge at most (held in memory while it
// runs), and per partition (a partition that cannot purge, a peer down,
// does not take the others' share); the rest wait for the next round.
inline constexpr size_t kMaxPurgesPerRound = 16'384;
inline constexpr size_t kMaxPurgesPerPartition = 256;
// Purged in batches of this many keys: a batch holds its keys' locks
// through one synced write, so writes of other keys do not wait long.
inline constexpr size_t kPurgeBatch = 64;

// Adds to `purges[p]`, for each partition p it has an entry for, the
// tombstones of p whose newest delete came before `deleted_before`, oldest
// first, within the limits above. On an error nothing is listed.
absl::Status ListTombstonesToPurge(NodeContext& node, absl::Time deleted_before,
                                   std::map<uint32_t, std::vector<ReplicaStore::Purge>*>& purges);

// Purges `purges` (of `partition`) that are unchanged, records them in
// node.purged_keys at `now`, and returns how many it purged. A failed
// write is logged and ends the purge (the rest wait for the next round).
uint64_t PurgeUnchangedTombstones(NodeContext& node, uint32_t partition,
                                  const std::vector<ReplicaStore::Purge>& purges, absl::Time now);

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_TOMBSTONE_PURGE_H_
