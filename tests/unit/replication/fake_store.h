// A node's replicas and hints in memory, for the tests of replication/: the
// contracts of ReplicaStore and Hints without an engine. What is written
// stays written: a node rebuilt over the same FakeStore is a restarted
// process that kept its disk; a new FakeStore is a new, empty directory.
// SetWriteError makes every write fail, as a full disk. The real stores are
// tested in tests/unit/storage/ and run under the simulator.
#ifndef QUORUMKV_TESTS_UNIT_REPLICATION_FAKE_STORE_H_
#define QUORUMKV_TESTS_UNIT_REPLICATION_FAKE_STORE_H_

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "replication/hints.h"
#include "replication/merkle_tree.h"
#include "replication/object_codec.h"
#include "replication/replica_store.h"
#include "replication/ring.h"
#include "replication/status_macros.h"

namespace quorumkv::test_support {

class FakeStore;

// The hints of a FakeStore. Thread-safe.
class FakeHints : public Hints {
 public:
  explicit FakeHints(FakeStore* store) : store_(store) {}

  absl::StatusOr<Object> Update(absl::string_view home, absl::string_view key,
                                const HintLimits& limits, absl::Time now, Mutation mutate) override;
  absl::StatusOr<std::optional<Object>> Read(absl::string_view home,
                                             absl::string_view key) override {
    absl::MutexLock lock(&mu_);
    auto it = hints_.find({std::string(home), std::string(key)});
    if (it == hints_.end()) return std::optional<Object>();
    return std::optional<Object>(it->second.object);
  }
  std::optional<HintInfo> Info(absl::string_view home, absl::string_view key) override {
    absl::MutexLock lock(&mu_);
    auto it = hints_.find({std::string(home), std::string(key)});
    if (it == hints_.end()) return std::nullopt;
    return static_cast<const HintInfo&>(it->second);
  }
  absl::StatusOr<std::vector<std::pair<std::string, Object>>> ReadAllHomes(
      absl::string_view key) override {
    absl::MutexLock lock(&mu_);
    std::vector<std::pair<std::string, Object>> all;
    for (const auto& [at, hint] : hints_) {
      if (at.second == key) all.emplace_back(at.first, hint.object);
    }
    return all;
  }
  absl::StatusOr<bool> DeleteIfUnchanged(absl::string_view home, absl::string_view key,
                                         const Object& delivered) override;
  absl::StatusOr<bool> DropExpired(absl::string_view home, absl::string_view key,
                                   absl::Time written_before, uint32_t partition) override;
  std::vector<HintInfo> List(absl::string_view home, size_t limit) override {
    return Sorted(home, absl::InfiniteFuture(), limit, &HintInfo::created);
  }
  std::vector<HintInfo> ListWrittenBefore(absl::string_view home, absl::Time written_before,
                                          size_t limit) override {
    return Sorted(home, written_before, limit, &HintInfo::newest_write);
  }
  std::vector<HintSummary> Summarize() override {
    absl::MutexLock lock(&mu_);
    std::map<std::string, HintSummary> by_home;
    for (const auto& [home, count] : expired_) by_home[home] = {.home = home, .expired = count};
    for (const auto& [at, hint] : hints_) {
      HintSummary& s = by_home[at.first];
      s.home = at.first;
      ++s.count;
      s.bytes += hint.bytes;
      s.oldest = std::min(s.oldest, hint.created);
      s.stalest = std::min(s.stalest, hint.newest_write);
    }
    std::vector<HintSummary> summaries;
    for (auto& [home, s] : by_home) summaries.push_back(std::move(s));
    return summaries;
  }

  bool HeldAny() const { return held_any_.load(); }

 private:
  using At = std::pair<std::string, std::string>;  // (home, key)

  // The hints of `home` before `before` by `time`, in that order.
  std::vector<HintInfo> Sorted(absl::string_view home, absl::Time before, size_t limit,
                               absl::Time HintInfo::*time) {
    absl::MutexLock lock(&mu_);
    std::vector<HintInfo> hints;
    for (const auto& [at, hint] : hints_) {
      if (at.first == home && hint.*time < before) hints.push_back(hint);
    }
    std::stable_sort(hints.begin(), hints.end(),
                     [time](const HintInfo& a, const HintInfo& b) { return a.*time < b.*time; });
    if (hints.size() > limit) hints.resize(limit);
    return hints;
  }

  struct Kept : HintInfo {
    Object object;
  };

  FakeStore* const store_;
  std::atomic<bool> held_any_{false};
  absl::Mutex mu_;
  std::map<At, Kept> hints_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, uint64_t> expired_ ABSL_GUARDED_BY(mu_);
};

// Thread-safe.
class FakeStore : public ReplicaStore {
 public:
  // A new directory of node `node_id`: actor "<node_id>.<epoch in 8 hex
  // digits>", its empty start not yet settled.
  FakeStore(const std::string& node_id, uint32_t epoch) : hints_(this) {
    char hex[9];
    std::snprintf(hex, sizeof(hex), "%08" PRIx32, epoch);
    actor_ = absl::StrCat(node_id, ".", hex);
  }

  absl::StatusOr<std::optional<Object>> Read(absl::string_view key) override {
    absl::MutexLock lock(&mu_);
    auto it = objects_.find(std::string(key));
    if (it == objects_.end()) return std::optional<Object>();
    return std::optional<Object>(it->second);
  }
  absl::Status ForEachObject(ObjectVisitor visit) override {
    std::map<std::string, Object> objects;
    {
      absl::MutexLock lock(&mu_);
      objects = objects_;
    }
    for (const auto& [key, object] : objects) visit(key, object);
    return absl::OkStatus();
  }
  // By filtering every object: the contract, not the work, of the real one.
  absl::Status ForEachObjectInSegment(uint32_t segment, uint64_t hash_first, uint64_t hash_last,
                                      ObjectVisitor visit) override {
    std::map<std::pair<uint64_t, std::string>, Object> wanted;
    RETURN_IF_ERROR(ForEachObject([&](absl::string_view key, const Object& object) {
      const uint64_t hash = StableHash(key);
      if (MerkleTree::SegmentOf(key) != segment || hash < hash_first || hash > hash_last) return;
      wanted.emplace(std::make_pair(hash, std::string(key)), object);
    }));
    for (const auto& [at, object] : wanted) visit(at.second, object);
    return absl::OkStatus();
  }
  absl::StatusOr<Object> Update(absl::string_view key, Mutation mutate) override {
    return UpdateBatch({KeyUpdate{key, mutate}})[0];
  }
  // Atomic as a whole. A write error fails every update whose result rests
  // on the write: those of the keys the batch changes.
  std::vector<absl::StatusOr<Object>> UpdateBatch(const std::vector<KeyUpdate>& updates) override {
    absl::MutexLock lock(&mu_);
    std::map<std::string, Object> staged;
    std::vector<absl::StatusOr<Object>> results;
    for (const KeyUpdate& u : updates) {
      const std::string key(u.key);
      std::optional<Object> current;
      if (auto s = staged.find(key); s != staged.end()) {
        current = s->second;
      } else if (auto o = objects_.find(key); o != objects_.end()) {
        current = o->second;
      }
      absl::StatusOr<Object> next = u.mutate(current);
      if (next.ok() && !(current && *current == *next)) {
        if (absl::Status decodable = CheckDecodable(*next); decodable.ok()) {
          staged[key] = *next;
        } else {
          next = decodable;
        }
      }
      results.push_back(std::move(next));
    }
    if (staged.empty()) return results;
    if (!write_error_.ok()) {
      for (size_t i = 0; i < results.size(); ++i) {
        if (results[i].ok() && staged.count(std::string(updates[i].key)) > 0) {
          results[i] = write_error_;
        }
      }
      return results;
    }
    batch_sizes_.push_back(staged.size());
    for (auto& [key, object] : staged) objects_[key] = std::move(object);
    return results;
  }
  // By sorting every tombstone: the contract, not the work, of the real one.
  absl::Status ForEachTombstoneBefore(uint64_t hlc_before, TombstoneVisitor visit) override {
    std::map<std::pair<uint64_t, std::string>, Object> deleted;
    RETURN_IF_ERROR(ForEachObject([&](absl::string_view key, const Object& object) {
      const std::optional<uint64_t> time = TombstoneTime(object);
      if (time && *time < hlc_before)
        deleted.emplace(std::make_pair(*time, std::string(key)), object);
    }));
    for (const auto& [at, object] : deleted) {
      if (!visit(at.second, object)) break;
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<bool>> PurgeTombstones(const std::vector<Purge>& purges) override {
    absl::MutexLock lock(&mu_);
    if (!write_error_.ok()) return write_error_;
    std::vector<bool> purged;
    for (const Purge& p : purges) {
      auto it = objects_.find(p.key);
      const bool remove =
          it != objects_.end() && it->second == p.object && TombstoneTime(p.object).has_value();
      if (remove) objects_.erase(it);
      purged.push_back(remove);
    }
    return purged;
  }
  absl::StatusOr<Dot> IssueDot() override { return Dot{actor_, ++last_counter_}; }
  // As if leased in blocks of 1,000, the next one always ahead.
  DotLease Lease() override { return DotLease{.ceiling = last_counter_ + 1000, .block = 1000}; }
  const std::string& actor() const override { return actor_; }

  absl::Status MarkPartitionForRepair(uint32_t partition) override {
    absl::MutexLock lock(&mu_);
    if (!write_error_.ok()) return write_error_;
    marked_.insert(partition);
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<uint32_t>> PartitionsMarkedForRepair() override {
    absl::MutexLock lock(&mu_);
    return std::vector<uint32_t>(marked_.begin(), marked_.end());
  }
  bool MarkedForRepair(uint32_t partition) override {
    absl::MutexLock lock(&mu_);
    return marked_.count(partition) > 0 || marked_.count(kEveryPartition) > 0;
  }
  bool HoldsData() override {
    absl::MutexLock lock(&mu_);
    return !objects_.empty() || hints_.HeldAny();
  }
  bool EmptyStartUnsettled() override {
    absl::MutexLock lock(&mu_);
    return empty_start_unsettled_;
  }
  absl::Status SettleEmptyStart() override {
    absl::MutexLock lock(&mu_);
    if (!write_error_.ok()) return write_error_;
    empty_start_unsettled_ = false;
    return absl::OkStatus();
  }
  std::set<std::string> ActorsSeenHoldingData() override {
    absl::MutexLock lock(&mu_);
    return actors_holding_data_;
  }
  absl::Status RecordActorHoldsData(const std::string& actor) override {
    absl::MutexLock lock(&mu_);
    if (!write_error_.ok()) return write_error_;
    actors_holding_data_.insert(actor);
    return absl::OkStatus();
  }

  Hints* hints() { return &hints_; }
  // Until reset with OkStatus, every write fails with `error`.
  void SetWriteError(absl::Status error) {
    absl::MutexLock lock(&mu_);
    write_error_ = std::move(error);
  }
  absl::Status write_error() {
    absl::MutexLock lock(&mu_);
    return write_error_;
  }
  // The highest counter handed out (0 if none).
  uint64_t last_issued_counter() const { return last_counter_.load(); }
  // The number of keys each write of UpdateBatch stored, in order.
  std::vector<size_t> batch_sizes() {
    absl::MutexLock lock(&mu_);
    return batch_sizes_;
  }

 private:
  friend class FakeHints;
  void Marked(uint32_t partition) {
    absl::MutexLock lock(&mu_);
    marked_.insert(partition);
  }

  std::string actor_;
  std::atomic<uint64_t> last_counter_{0};
  FakeHints hints_;
  absl::Mutex mu_;
  absl::Status write_error_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Object> objects_ ABSL_GUARDED_BY(mu_);
  std::set<uint32_t> marked_ ABSL_GUARDED_BY(mu_);
  bool empty_start_unsettled_ ABSL_GUARDED_BY(mu_) = true;
  std::set<std::string> actors_holding_data_ ABSL_GUARDED_BY(mu_);
  std::vector<size_t> batch_sizes_ ABSL_GUARDED_BY(mu_);
};

inline absl::StatusOr<Object> FakeHints::Update(absl::string_view home, absl::string_view key,
                                                const HintLimits& limits, absl::Time now,
                                                Mutation mutate) {
  absl::MutexLock lock(&mu_);
  const At at{std::string(home), std::string(key)};
  auto it = hints_.find(at);
  std::optional<Object> current;
  if (it != hints_.end()) current = it->second.object;
  ASSIGN_OR_RETURN(Object next, mutate(current));
  if (current && *current == next) return next;
  RETURN_IF_ERROR(CheckDecodable(next));
  uint64_t count = 0, bytes = 0;
  for (const auto& [other, hint] : hints_) {
    if (other.first != at.first || other == at) continue;
    ++count;
    bytes += hint.bytes;
  }
  Kept kept;
  kept.home = at.first;
  kept.key = at.second;
  kept.bytes = EncodeObject(next).size();
  kept.created = current ? it->second.created : now;
  kept.newest_write = current ? std::max(it->second.newest_write, now) : now;
  kept.object = next;
  if (!current && count + 1 > limits.max_count) {
    return absl::ResourceExhaustedError(absl::StrCat("hints for ", home, " are full"));
  }
  if (bytes + kept.bytes > limits.max_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat("hints for ", home, " are full"));
  }
  RETURN_IF_ERROR(store_->write_error());
  hints_[at] = std::move(kept);
  held_any_ = true;
  return next;
}

inline absl::StatusOr<bool> FakeHints::DeleteIfUnchanged(absl::string_view home,
                                                         absl::string_view key,
                                                         const Object& delivered) {
  absl::MutexLock lock(&mu_);
  auto it = hints_.find({std::string(home), std::string(key)});
  if (it == hints_.end() || !(it->second.object == delivered)) return false;
  RETURN_IF_ERROR(store_->write_error());
  hints_.erase(it);
  return true;
}

inline absl::StatusOr<bool> FakeHints::DropExpired(absl::string_view home, absl::string_view key,
                                                   absl::Time written_before, uint32_t partition) {
  absl::MutexLock lock(&mu_);
  auto it = hints_.find({std::string(home), std::string(key)});
  if (it == hints_.end() || it->second.newest_write >= written_before) return false;
  RETURN_IF_ERROR(store_->write_error());
  hints_.erase(it);
  ++expired_[std::string(home)];
  store_->Marked(partition);
  return true;
}

}  // namespace quorumkv::test_support

#endif  // QUORUMKV_TESTS_UNIT_REPLICATION_FAKE_STORE_H_
