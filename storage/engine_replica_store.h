// The ReplicaStore of a node, on any Engine: objects in the data column
// family, encoded as ObjectProto; the actor id and the dot lease in meta.
// It owns the node's Hints (a HintStore in the same engine, hints()) and its
// repair marks (RepairMarks), which both mark.
//
// Dots: counters are issued from memory and persisted in leased blocks. The
// meta key "dot_lease" holds L, the highest counter that may have been
// issued; it is written (always synced) before any counter above it is
// handed out. On open the counter restarts at L + 1, so a crash at any
// moment can skip counters but never reuse one.
//
// Actor: "<node id>.<epoch>", with a random 32-bit epoch chosen when the
// node first opens an empty data directory. A wiped disk thus rejoins as a
// new actor and cannot re-issue the dots of its previous life. A restart
// that cannot prove it kept every write it acknowledged would otherwise
// keep its actor and lose: its next write of such a key would claim the lost
// dot as seen and make merges drop the copies other replicas hold (Riak's
// KV679). Proof is a clean stop (CloseCleanly's synced mark, written after
// every write, was recovered) or the engine's report that it recovered
// every acknowledged write (Engine::LastRecovery: RocksDbEngine's write
// watermark), and an engine that found writes missing overrides a clean
// mark. Without proof — a log that lost its tail, a power loss, a directory
// restored from an older copy — the open moves to a new generation of the
// actor ("n1.5f3a9c2e.<8 random hex digits>": random, since the log may lose
// the record of a generation too), marks every partition for repair
// (kEveryPartition) and logs a warning.
#ifndef QUORUMKV_STORAGE_ENGINE_REPLICA_STORE_H_
#define QUORUMKV_STORAGE_ENGINE_REPLICA_STORE_H_

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "replication/replica_store.h"
#include "storage/engine.h"
#include "storage/hint_store.h"
#include "storage/repair_marks.h"

namespace quorumkv {

struct ReplicaStoreOptions {
  std::string node_id;
  bool sync_writes = true;  // fsync object writes before acking
  uint64_t dot_lease_block = 10'000;
  // Source of a new data directory's epoch and of a new generation's
  // token; default: std::random_device.
  std::function<uint32_t()> new_epoch;
};

// Thread-safe. Does not own `engine`, which must outlive it.
class EngineReplicaStore : public ReplicaStore {
 public:
  // Reads or creates the actor id and the dot lease. FAILED_PRECONDITION if
  // the directory belongs to another node id.
  static absl::StatusOr<std::unique_ptr<EngineReplicaStore>> Open(Engine* engine,
                                                                  ReplicaStoreOptions options);

  // Records (synced, with every write before it) that the node stopped
  // cleanly, so the next Open keeps the actor (unless the engine then finds
  // writes missing). Call it last: no write may follow.
  absl::Status CloseCleanly();

  absl::StatusOr<std::optional<Object>> Read(absl::string_view key) override;
  absl::Status ForEachObject(ObjectVisitor visit) override;
  // Through the segment index (segment_index.h).
  absl::Status ForEachObjectInSegment(uint32_t segment, uint64_t hash_first, uint64_t hash_last,
                                      ObjectVisitor visit) override;
  // Through the tombstone index (tombstone_index.h), dropping the stale
  // entries it meets.
  absl::Status ForEachTombstoneBefore(uint64_t hlc_before, TombstoneVisitor visit) override;
  absl::StatusOr<std::vector<bool>> PurgeTombstones(const std::vector<Purge>& purges) override;
  // An UpdateBatch of one.
  absl::StatusOr<Object> Update(absl::string_view key, Mutation mutate) override;
  // Holds the lock of every key in the batch (in a fixed order) until the
  // batch is written.
  std::vector<absl::StatusOr<Object>> UpdateBatch(const std::vector<KeyUpdate>& updates) override;
  absl::StatusOr<Dot> IssueDot() override;
  DotLease Lease() override;
  const std::string& actor() const override { return actor_; }

  absl::Status MarkPartitionForRepair(uint32_t partition) override;
  absl::StatusOr<std::vector<uint32_t>> PartitionsMarkedForRepair() override;
  bool MarkedForRepair(uint32_t partition) override;
  bool HoldsData() override {
    return holds_data_.load(std::memory_order_relaxed) || hints_->HeldAny();
  }
  bool EmptyStartUnsettled() override;
  absl::Status SettleEmptyStart() override;
  std::set<std::string> ActorsSeenHoldingData() override;
  absl::Status RecordActorHoldsData(const std::string& actor) override;

  // The hints this node keeps for others, in the same engine: their drops
  // mark partitions for repair here. Owned by this store.
  Hints* hints() { return hints_.get(); }

  // The highest counter this store has handed out (0 if none).
  uint64_t last_issued_counter() const;

 private:
  static constexpr size_t kKeyLockStripes = 256;

  // What Open read of the directory.
  struct Opened {
    std::string actor;
    bool empty_start_unsettled = false;
    uint64_t lease = 0;
    std::unique_ptr<RepairMarks> marks;
    std::unique_ptr<HintStore> hints;
    std::set<std::string> actors_holding_data;
    bool holds_data = false;
  };

  EngineReplicaStore(Engine* engine, ReplicaStoreOptions options, Opened opened);
  // One update of UpdateBatch, under its key's lock: reads the key (from
  // `staged` if the batch wrote it already), mutates it and adds the result
  // to `batch` and `staged` unless it is unchanged.
  absl::StatusOr<Object> StageUpdate(const KeyUpdate& update,
                                     absl::flat_hash_map<std::string, Object>* staged,
                                     WriteBatch* batch);
  static size_t StripeOf(absl::string_view key);
  // Deletes the tombstone index entries (time, key) whose key no longer
  // holds a tombstone of that time.
  absl::Status DropStaleTombstoneEntries(
      const std::vector<std::pair<uint64_t, std::string>>& entries);

  Engine* const engine_;
  const ReplicaStoreOptions options_;
  const std::string actor_;
  std::array<absl::Mutex, kKeyLockStripes> key_locks_;
  const std::unique_ptr<RepairMarks> marks_;
  const std::unique_ptr<HintStore> hints_;  // after marks_, which it uses
  std::atomic<bool> holds_data_;            // a replica was stored

  // Serializes the writes of meta records (sightings, the empty start) with
  // their in-memory copies. Taken before memory_mu_, never after; held
  // across synced writes, so readers take only memory_mu_.
  mutable absl::Mutex record_mu_;
  mutable absl::Mutex memory_mu_;
  // The meta keys "holds_data/<actor>".
  std::set<std::string> actors_holding_data_ ABSL_GUARDED_BY(memory_mu_);
  // The meta key "empty_start".
  bool empty_start_unsettled_ ABSL_GUARDED_BY(memory_mu_);

  mutable absl::Mutex dot_mu_;
  uint64_t next_counter_ ABSL_GUARDED_BY(dot_mu_);
  // Written under dot_mu_ once the lease is durable; read without it
  // (Lease), so that pings and replica writes never wait for that fsync.
  std::atomic<uint64_t> lease_end_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_ENGINE_REPLICA_STORE_H_
