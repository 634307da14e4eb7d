// The hints a node keeps for other nodes: under sloppy quorum, a fallback
// takes the write a home replica could not, keeps it as a hint for that
// home, and hands it back when the home answers again (handoff.h). Apart
// from ReplicaStore: the put and get paths never see hints, the handoff
// never sees replicas. storage/hint_store.h implements it on an Engine.
#ifndef QUORUMKV_REPLICATION_HINTS_H_
#define QUORUMKV_REPLICATION_HINTS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "replication/object.h"
#include "replication/replica_store.h"

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

// Implementations are thread-safe. Calls may block on disk, but for those
// said to be served from memory.
class Hints {
 public:
  using Mutation = ReplicaStore::Mutation;

  virtual ~Hints() = default;

  // Like ReplicaStore::Update, for the hint this node keeps for `home` and
  // `key`: atomic per (home, key), durable when it returns, `now` stamped as
  // the creation time of a new hint and as the newest write of every hint it
  // changes (never earlier than before). RESOURCE_EXHAUSTED, writing
  // nothing, when a new hint would take `home` past `limits`.
  virtual absl::StatusOr<Object> Update(absl::string_view home, absl::string_view key,
                                        const HintLimits& limits, absl::Time now,
                                        Mutation mutate) = 0;
  // The hint for (home, key), or nullopt. DATA_LOSS if it is corrupt.
  virtual absl::StatusOr<std::optional<Object>> Read(absl::string_view home,
                                                     absl::string_view key) = 0;
  // When the hint for (home, key) was created and last written, or nullopt.
  // Served from memory.
  virtual std::optional<HintInfo> Info(absl::string_view home, absl::string_view key) = 0;
  // Every hint this node keeps of `key`, whichever home it is for, in home
  // order: what a fallback knows of the key. Empty if it keeps none.
  virtual absl::StatusOr<std::vector<std::pair<std::string, Object>>> ReadAllHomes(
      absl::string_view key) = 0;
  // After a handoff: deletes the hint if it still equals `delivered` (else a
  // newer write merged into it since: it stays for the next handoff). True
  // if deleted. The delete need not be synced: a hint a crash brings back is
  // delivered again, which changes nothing.
  virtual absl::StatusOr<bool> DeleteIfUnchanged(absl::string_view home, absl::string_view key,
                                                 const Object& delivered) = 0;
  // Drops an expired hint: if no write reached the hint for (home, key) at
  // or after `written_before`, then in one synced write it is deleted, ring
  // partition `partition` is marked for repair (as
  // ReplicaStore::MarkPartitionForRepair) and the count of hints expired for
  // `home` goes up by one. False, dropping nothing, if a newer write has
  // reached it since it was listed, or it is gone.
  virtual absl::StatusOr<bool> DropExpired(absl::string_view home, absl::string_view key,
                                           absl::Time written_before, uint32_t partition) = 0;
  // Up to `limit` hints for `home`, oldest created first. Served from memory.
  virtual std::vector<HintInfo> List(absl::string_view home, size_t limit) = 0;
  // Up to `limit` hints for `home` whose newest write came before
  // `written_before`, the stalest first: the candidates for expiry. Served
  // from memory.
  virtual std::vector<HintInfo> ListWrittenBefore(absl::string_view home, absl::Time written_before,
                                                  size_t limit) = 0;
  // Per home with hints or with hints expired. Served from memory.
  virtual std::vector<HintSummary> Summarize() = 0;
};

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_HINTS_H_
