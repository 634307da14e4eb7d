// The Merkle trees (merkle_tree.h) of the ring partitions a node holds
// objects of, kept equal to its store: built from the store when the node
// starts, then updated by every write that lands, through TreeKeepingStore.
//
// Crash semantics: the trees live in memory only. A crash loses them and
// the next start rebuilds them from what the store recovered, so no tree
// can claim a write the store lost (which would hide a difference from
// anti-entropy). A write is applied to its tree only once the store
// reports it durable; a failed write changes no tree.
#ifndef QUORUMKV_REPLICATION_PARTITION_TREES_H_
#define QUORUMKV_REPLICATION_PARTITION_TREES_H_

#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "replication/forwarding_replica_store.h"
#include "replication/merkle_tree.h"
#include "replication/replica_store.h"
#include "replication/ring.h"

namespace quorumkv {

// Thread-safe.
class PartitionTrees {
 public:
  // `ring` must outlive this.
  explicit PartitionTrees(const Ring* ring) : ring_(ring) {}

  // Replaces every tree by one built from the objects of `store`.
  absl::Status Build(ReplicaStore& store);
  // `key`'s entry hash went from `before` to `after` (0: no entry).
  void Apply(absl::string_view key, uint64_t before, uint64_t after);

  // A copy of `partition`'s tree (empty if it holds no object).
  MerkleTree Tree(uint32_t partition) const;
  uint64_t Root(uint32_t partition) const;

 private:
  const Ring* const ring_;
  mutable absl::Mutex mu_;
  std::map<uint32_t, MerkleTree> trees_ ABSL_GUARDED_BY(mu_);  // partitions with objects
};

// A ReplicaStore that keeps `trees` equal to the objects in `base`: every
// update's entry hash before and after is applied to the trees once the
// update is stored. Thread-safe as `base` is; `base` and `trees` must
// outlive it.
class TreeKeepingStore : public ForwardingReplicaStore {
 public:
  TreeKeepingStore(ReplicaStore* base, PartitionTrees* trees)
      : ForwardingReplicaStore(base), trees_(trees) {}

  absl::StatusOr<Object> Update(absl::string_view key, Mutation mutate) override;
  std::vector<absl::StatusOr<Object>> UpdateBatch(const std::vector<KeyUpdate>& updates) override;
  // A purged key leaves its tree.
  absl::StatusOr<std::vector<bool>> PurgeTombstones(const std::vector<Purge>& purges) override;

  // A tree lags its store by the moment between a write and its Apply.
  // Updates are numbered as they begin: Began() is the latest number,
  // AppliedThrough() the highest n such that every update numbered up to n
  // has reached the trees (or failed). What a read of the store saw is in
  // the trees once AppliedThrough() reaches Began() as read after it.
  uint64_t Began() const;
  uint64_t AppliedThrough() const;

 private:
  uint64_t Begin();
  void End(uint64_t update);

  PartitionTrees* const trees_;
  mutable absl::Mutex seq_mu_;
  uint64_t began_ ABSL_GUARDED_BY(seq_mu_) = 0;
  std::set<uint64_t> in_flight_ ABSL_GUARDED_BY(seq_mu_);
};

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_PARTITION_TREES_H_
