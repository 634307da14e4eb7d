// The hint store: objects a node keeps, as a fallback of sloppy quorum, for
// home replicas that could not take a write — in their own column family,
// keyed by "<home node>\0<key>", each with the times its first and its
// newest write came.
//
// An index of every hint (per home: by key, by age and by newest write,
// with byte totals) is kept in memory and rebuilt by a scan when the store
// opens, so limits, status, expiry and handoff never scan the disk.
// Durability is that of the engine writes (synced when sync_writes), like
// replicas; dropping an expired hint is always synced, with the count of
// hints expired per home (the meta keys "hints_expired/<home>") and the
// repair mark of the hint's partition.
#ifndef QUORUMKV_STORAGE_HINT_STORE_H_
#define QUORUMKV_STORAGE_HINT_STORE_H_

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "replication/hints.h"
#include "storage/engine.h"
#include "storage/repair_marks.h"

namespace quorumkv {

// Thread-safe. Does not own `engine` or `marks`, which must outlive it.
class HintStore : public Hints {
 public:
  // Scans the hints column family to build the index, and reads the counts
  // of expired hints. DATA_LOSS if a hint or a count does not decode.
  static absl::StatusOr<std::unique_ptr<HintStore>> Open(Engine* engine, bool sync_writes,
                                                         RepairMarks* marks);

  // Hints. A result equal to the stored hint writes nothing; durable when
  // it returns if sync_writes. The index takes a new hint before its write,
  // so that two new hints cannot both pass max_count.
  absl::StatusOr<Object> Update(absl::string_view home, absl::string_view key,
                                const HintLimits& limits, absl::Time now, Mutation mutate) override;
  absl::StatusOr<std::optional<Object>> Read(absl::string_view home,
                                             absl::string_view key) override;
  std::optional<HintInfo> Info(absl::string_view home, absl::string_view key) override;
  absl::StatusOr<std::vector<std::pair<std::string, Object>>> ReadAllHomes(
      absl::string_view key) override;
  // The delete is not synced (see Hints).
  absl::StatusOr<bool> DeleteIfUnchanged(absl::string_view home, absl::string_view key,
                                         const Object& delivered) override;
  absl::StatusOr<bool> DropExpired(absl::string_view home, absl::string_view key,
                                   absl::Time written_before, uint32_t partition) override;
  std::vector<HintInfo> List(absl::string_view home, size_t limit) override;
  std::vector<HintInfo> ListWrittenBefore(absl::string_view home, absl::Time written_before,
                                          size_t limit) override;
  std::vector<HintSummary> Summarize() override;

  // Whether this directory held a hint when it opened, or one was stored since.
  bool HeldAny() const { return held_any_.load(std::memory_order_relaxed); }

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

  HintStore(Engine* engine, bool sync_writes, RepairMarks* marks)
      : engine_(engine), sync_writes_(sync_writes), marks_(marks) {}
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
  RepairMarks* const marks_;
  std::atomic<bool> held_any_{false};
  // Serializes the drops of expired hints, and so the writes of their
  // counts. Taken before a hint's lock, held across the synced write.
  absl::Mutex drop_mu_;
  std::array<absl::Mutex, kLockStripes> locks_;
  absl::Mutex index_mu_;
  std::map<std::string, HomeIndex> index_ ABSL_GUARDED_BY(index_mu_);
  // Hints dropped for age, per home: the meta keys "hints_expired/<home>".
  std::map<std::string, uint64_t> expired_ ABSL_GUARDED_BY(index_mu_);
};

// "<home>\0<key>" and back.
std::string HintKey(absl::string_view home, absl::string_view key);
bool SplitHintKey(absl::string_view hint_key, std::string* home, std::string* key);

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_HINT_STORE_H_
