// The hint store: objects a node keeps, as a fallback of sloppy quorum, for
// home replicas that could not take a write — in their own column family,
// keyed by "<home node>\0<key>", each with the times its first and its
// newest write came.
//
// An index of every hint (per home: by key, by age and by newest write,
// with byte totals) is kept in memory and rebuilt by a scan when the store
// opens, so limits, status, expiry and handoff never scan the disk.
// Durability is that of the engine writes (synced when sync_writes), like
// replicas; dropping an expired hint is always synced.
#ifndef QUORUMKV_STORAGE_HINT_STORE_H_
#define QUORUMKV_STORAGE_HINT_STORE_H_

#include <array>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "replication/replica_store.h"
#include "storage/engine.h"

namespace quorumkv {

// Thread-safe. Does not own `engine`.
class HintStore {
 public:
  // Scans the hints column family to build the index. DATA_LOSS if a hint
  // does not decode.
  static absl::StatusOr<std::unique_ptr<HintStore>> Open(Engine* engine, bool sync_writes);

  // Applies `mutate` to the hint for (home, key) (nullopt if there is none)
  // and stores the result, under the key's lock: atomic per hint, durable
  // when it returns if sync_writes. A new hint's created time is `now`; every
  // write sets its newest-write time to `now` (never earlier than before,
  // should the clock step back). RESOURCE_EXHAUSTED, writing nothing, when
  // the hint would pass `limits` for its home (count or bytes); a mutation's
  // error is returned as is, writing nothing. A result equal to the stored
  // hint writes nothing either.
  absl::StatusOr<Object> Update(absl::string_view home, absl::string_view key,
                                const HintLimits& limits, absl::Time now,
                                ReplicaStore::Mutation mutate);
  // The hint for (home, key), or nullopt. DATA_LOSS if it does not decode.
  absl::StatusOr<std::optional<Object>> Read(absl::string_view home, absl::string_view key);
  // The hints of `key` for every home, in home order.
  absl::StatusOr<std::vector<std::pair<std::string, Object>>> ReadAllHomes(absl::string_view key);
  // After a handoff: deletes the hint if it still equals `delivered` (a write
  // merged into it since must stay, for the next handoff). True if deleted.
  // The delete is durable when it returns if sync_writes.
  absl::StatusOr<bool> DeleteIfUnchanged(absl::string_view home, absl::string_view key,
                                         const Object& delivered);
  // Deletes the hint, in one synced engine write with `also`, if its newest
  // write came before `written_before`. True if deleted.
  absl::StatusOr<bool> DropIfWrittenBefore(absl::string_view home, absl::string_view key,
                                           absl::Time written_before, const WriteBatch& also);
  // Up to `limit` hints for `home`, oldest created first (from the index:
  // no disk read).
  std::vector<HintInfo> List(absl::string_view home, size_t limit);
  // Up to `limit` hints for `home` whose newest write came before
  // `written_before`, stalest first: the candidates for expiry.
  std::vector<HintInfo> ListWrittenBefore(absl::string_view home, absl::Time written_before,
                                          size_t limit);
  // Per home with hints: count, bytes, oldest and stalest (expired is 0).
  std::vector<HintSummary> Summarize();

 private:
  struct Indexed {
    absl::Time created;
    absl::Time newest_write;
    uint64_t bytes = 0;
  };
  struct Stored {
    Object object;
    Indexed info;
  };
  using ByTime = std::set<std::pair<absl::Time, std::string>>;
  struct HomeIndex {
    std::map<std::string, Indexed> by_key;
    ByTime by_age;     // by created
    ByTime by_newest;  // by newest_write
    uint64_t bytes = 0;
  };
  static constexpr size_t kLockStripes = 64;

  HintStore(Engine* engine, bool sync_writes) : engine_(engine), sync_writes_(sync_writes) {}
  absl::Mutex& LockFor(const std::string& hint_key);
  absl::StatusOr<std::optional<Stored>> Load(const std::string& hint_key);
  absl::Status Erase(absl::string_view home, absl::string_view key);
  void Index(const std::string& home, const std::string& key, const Indexed& info);
  void IndexLocked(const std::string& home, const std::string& key, const Indexed& info)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(index_mu_);
  void Unindex(const std::string& home, const std::string& key);
  // Checks `limits` and indexes the hint in one step; returns what the index
  // held for the key before, for Unreserve.
  absl::StatusOr<std::optional<Indexed>> Reserve(const std::string& home, const std::string& key,
                                                 const Indexed& info, const HintLimits& limits);
  static std::vector<HintInfo> ListOf(const ByTime& order, const HomeIndex& index,
                                      absl::string_view home, absl::Time before, size_t limit);
  void Unreserve(const std::string& home, const std::string& key,
                 const std::optional<Indexed>& previous);

  Engine* const engine_;
  const bool sync_writes_;
  std::array<absl::Mutex, kLockStripes> locks_;
  absl::Mutex index_mu_;
  std::map<std::string, HomeIndex> index_ ABSL_GUARDED_BY(index_mu_);
};

// "<home>\0<key>" and back.
std::string HintKey(absl::string_view home, absl::string_view key);
bool SplitHintKey(absl::string_view hint_key, std::string* home, std::string* key);

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_HINT_STORE_H_
