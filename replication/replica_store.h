// A node's replicas: the versioned objects it holds, the hints it keeps for
// other nodes (sloppy quorum), and the counter its dots come from. storage/
// implements it on an Engine (RocksDB or memory).
#ifndef QUORUMKV_REPLICATION_REPLICA_STORE_H_
#define QUORUMKV_REPLICATION_REPLICA_STORE_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "replication/object.h"

namespace quorumkv {

// A hint: an object this node keeps for `home`, a home replica of `key`
// that could not take a write.
struct HintInfo {
  std::string home;
  std::string key;
  uint64_t bytes = 0;       // encoded size
  absl::Time created;       // when its first write arrived
  absl::Time newest_write;  // when the newest write merged into it arrived
};

struct HintSummary {
  std::string home;
  uint64_t count = 0;
  uint64_t bytes = 0;
  absl::Time oldest = absl::InfiniteFuture();   // the earliest `created`
  absl::Time stalest = absl::InfiniteFuture();  // the earliest `newest_write`
  // Hints for `home` dropped for age, ever: a durable count. A home with
  // such hints and none pending is summarized too.
  uint64_t expired = 0;
};

// Limits on the hints kept for one home node.
struct HintLimits {
  uint64_t max_bytes = 256ull << 20;
  uint64_t max_count = 1'000'000;
};

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

  // A dot for a new write coordinated by this node. Counters come from one
  // node-wide sequence, persisted in leased blocks, so a dot is never issued
  // twice, even across crashes. Thread-safe.
  virtual absl::StatusOr<Dot> IssueDot() = 0;

  // This node's actor id, "<node id>.<epoch>"; a new epoch when the node
  // starts on an empty data directory.
  virtual const std::string& actor() const = 0;

  // Hints. Like Update, for the hint this node keeps for `home` and `key`:
  // atomic per (home, key), durable when it returns, `now` stamped as the
  // creation time of a new hint. RESOURCE_EXHAUSTED, writing nothing, when a
  // new hint would take `home` past `limits`.
  virtual absl::StatusOr<Object> UpdateHint(absl::string_view home, absl::string_view key,
                                            const HintLimits& limits, absl::Time now,
                                            Mutation mutate) = 0;
  virtual absl::StatusOr<std::optional<Object>> ReadHint(absl::string_view home,
                                                         absl::string_view key) = 0;
  // Every hint this node keeps of `key`, whichever home it is for, in home
  // order: what a fallback knows of the key. Empty if it keeps none.
  virtual absl::StatusOr<std::vector<std::pair<std::string, Object>>> ReadHintsOfKey(
      absl::string_view key) = 0;
  // Deletes the hint if it still equals `delivered` (else a newer write
  // merged into it since: it stays for the next handoff). True if deleted.
  virtual absl::StatusOr<bool> DeleteHintIfUnchanged(absl::string_view home, absl::string_view key,
                                                     const Object& delivered) = 0;
  // Drops an expired hint: if no write reached the hint for (home, key) at
  // or after `written_before`, then in one synced write it is deleted, ring
  // partition `partition` is marked for repair and the count of hints
  // expired for `home` goes up by one. False, dropping nothing, if a newer
  // write has reached it since it was listed, or it is gone.
  virtual absl::StatusOr<bool> DropExpiredHint(absl::string_view home, absl::string_view key,
                                               absl::Time written_before, uint32_t partition) = 0;
  // Up to `limit` hints for `home`, oldest first. Served from memory.
  virtual std::vector<HintInfo> ListHints(absl::string_view home, size_t limit) = 0;
  // Up to `limit` hints for `home` whose newest write came before
  // `written_before`, the stalest first. Served from memory.
  virtual std::vector<HintInfo> ListExpiredHints(absl::string_view home, absl::Time written_before,
                                                 size_t limit) = 0;
  // Per home node with hints. Served from memory.
  virtual std::vector<HintSummary> SummarizeHints() = 0;

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
