// A node's replicas: the versioned objects it holds, the counter its dots
// come from, and what it records of its own history (repair marks, an empty
// start). The hints it keeps for other nodes are a separate interface
// (hints.h). storage/ implements both on an Engine (RocksDB or memory).
#ifndef QUORUMKV_REPLICATION_REPLICA_STORE_H_
#define QUORUMKV_REPLICATION_REPLICA_STORE_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "replication/issued_dots.h"
#include "replication/object.h"

namespace quorumkv {

// A repair mark that stands for every partition of the node.
inline constexpr uint32_t kEveryPartition = UINT32_MAX;

// Implementations are thread-safe. Calls may block on disk.
class ReplicaStore {
 public:
  // Computes the new state of a key from its current one (nullopt if the key
  // has none). An error aborts the update: nothing is written.
  using Mutation = absl::FunctionRef<absl::StatusOr<Object>(const std::optional<Object>& current)>;

  virtual ~ReplicaStore() = default;

  // The stored object of `key`, or nullopt. DATA_LOSS if it is corrupt.
  virtual absl::StatusOr<std::optional<Object>> Read(absl::string_view key) = 0;

  // Visits every stored object, in key order (anti-entropy builds its trees
  // from them at start). DATA_LOSS if one is corrupt. Updates that run
  // meanwhile may or may not be seen.
  using ObjectVisitor = absl::FunctionRef<void(absl::string_view key, const Object& object)>;
  virtual absl::Status ForEachObject(ObjectVisitor visit) = 0;

  // Visits the stored objects of the keys in Merkle segment `segment`
  // (MerkleTree::SegmentOf) whose StableHash is in [hash_first, hash_last]
  // (one ring partition: Ring::HashRangeOf), in (hash, key) order, in work
  // proportional to those keys: anti-entropy lists a differing segment so.
  // DATA_LOSS if one is corrupt.
  virtual absl::Status ForEachObjectInSegment(uint32_t segment, uint64_t hash_first,
                                              uint64_t hash_last, ObjectVisitor visit) = 0;

  // Reads `key`, applies `mutate` and stores the result, atomically with
  // respect to other Updates of the same key. Returns the stored object.
  // After OK the result survives a crash of the process (and, with
  // sync_writes, of the machine). `mutate` may call IssueDot.
  virtual absl::StatusOr<Object> Update(absl::string_view key, Mutation mutate) = 0;

  // One key's part of UpdateBatch.
  struct KeyUpdate {
    absl::string_view key;
    Mutation mutate;
  };
  // Like Update for each element, in order, made durable together (one
  // synced write for the batch: group commit). The i-th result is the i-th
  // update's: a failed mutation writes nothing for its key and does not
  // stop the others; a failed storage write fails every update it carried.
  // A key may appear more than once: each update sees the one before.
  // This default calls Update for each element.
  virtual std::vector<absl::StatusOr<Object>> UpdateBatch(const std::vector<KeyUpdate>& updates) {
    std::vector<absl::StatusOr<Object>> results;
    results.reserve(updates.size());
    for (const KeyUpdate& u : updates) results.push_back(Update(u.key, u.mutate));
    return results;
  }

  // Tombstone purge (docs/semantics.md, "Purging tombstones"): the deleted
  // keys, and their removal once anti-entropy has proved it safe.
  //
  // Visits the keys whose object is a tombstone (TombstoneTime) written
  // before `hlc_before`, oldest first, until `visit` returns false, in work
  // proportional to the tombstones before `hlc_before` (an index).
  // DATA_LOSS if one is corrupt.
  using TombstoneVisitor = absl::FunctionRef<bool(absl::string_view key, const Object& object)>;
  virtual absl::Status ForEachTombstoneBefore(uint64_t hlc_before, TombstoneVisitor visit) = 0;
  // A tombstone to purge: removed only if the key's object still equals
  // `object`.
  struct Purge {
    std::string key;
    Object object;
  };
  // Removes each key that still holds exactly its `object` (a tombstone)
  // and nothing else of it, atomically with respect to Updates of the
  // key, in one synced write: after OK the purged keys stay absent across
  // a crash. The i-th element: whether the i-th key was removed (false: it
  // changed, or is not a tombstone).
  virtual absl::StatusOr<std::vector<bool>> PurgeTombstones(const std::vector<Purge>& purges) = 0;

  // A dot for a new write coordinated by this node. Counters come from one
  // node-wide sequence, persisted in leased blocks, so a dot is never issued
  // twice, even across crashes. Thread-safe.
  virtual absl::StatusOr<Dot> IssueDot() = 0;
  // The lease IssueDot draws from: no counter above its ceiling has been
  // issued. Thread-safe.
  virtual DotLease Lease() = 0;

  // This node's actor id, "<node id>.<epoch>"; a new epoch when the node
  // starts on an empty data directory.
  virtual const std::string& actor() const = 0;

  // Records that the replicas of ring partition `partition` may disagree in
  // a way only anti-entropy can fix: a hint for one of them was dropped, or
  // (kEveryPartition) this node lost writes it had acknowledged. Durable;
  // nothing clears a mark yet.
  virtual absl::Status MarkPartitionForRepair(uint32_t partition) = 0;
  // Served from memory.
  virtual absl::StatusOr<std::vector<uint32_t>> PartitionsMarkedForRepair() = 0;
  // Whether `partition`, or kEveryPartition, is marked. Served from memory.
  virtual bool MarkedForRepair(uint32_t partition) = 0;

  // What a node knows of data it may have lost with its whole disk: a node
  // that starts on an empty directory asks its peers whether they have seen
  // it holding data under another actor (replication/empty_start.h).
  // Whether this node holds any replica or hint. Served from memory.
  virtual bool HoldsData() = 0;
  // Whether the directory was empty when it was first opened and the peers
  // have not yet settled whether the node is new or lost its data (durable:
  // a restart before they do keeps asking).
  virtual bool EmptyStartUnsettled() = 0;
  virtual absl::Status SettleEmptyStart() = 0;
  // The actors of other nodes this node has seen holding data; recorded
  // durably, once each.
  virtual std::set<std::string> ActorsSeenHoldingData() = 0;
  virtual absl::Status RecordActorHoldsData(const std::string& actor) = 0;
};

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_REPLICA_STORE_H_
