#include "storage/hint_store.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "proto/replica.pb.h"
#include "replication/object_codec.h"
#include "replication/ring.h"
#include "replication/status_macros.h"

namespace quorumkv {
namespace {

struct DecodedHint {
  Object object;
  absl::Time created;
  absl::Time newest_write;
};

absl::StatusOr<DecodedHint> DecodeHint(absl::string_view bytes) {
  pb::HintProto proto;
  if (!proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError("stored hint does not parse");
  }
  absl::StatusOr<Object> object = FromProto(proto.object());
  if (!object.ok()) {
    return absl::DataLossError(absl::StrCat("stored hint is corrupt: ", object.status().message()));
  }
  const int64_t newest_ms = std::max(proto.newest_write_unix_ms(), proto.created_unix_ms());
  return DecodedHint{*std::move(object), absl::FromUnixMillis(proto.created_unix_ms()),
                     absl::FromUnixMillis(newest_ms)};
}

std::string EncodeHint(const Object& object, absl::Time created, absl::Time newest_write) {
  pb::HintProto proto;
  ToProto(object, proto.mutable_object());
  proto.set_created_unix_ms(absl::ToUnixMillis(created));
  proto.set_newest_write_unix_ms(absl::ToUnixMillis(newest_write));
  return proto.SerializeAsString();
}

constexpr absl::string_view kExpiredPrefix = "hints_expired/";

// The durable counts of hints dropped for age, per home.
absl::StatusOr<std::map<std::string, uint64_t>> ReadExpiredCounts(Engine* engine) {
  std::map<std::string, uint64_t> counts;
  absl::Status bad;
  RETURN_IF_ERROR(engine->Scan(
      ColumnFamily::kMeta, kExpiredPrefix, absl::StrCat(kExpiredPrefix, "\xff"),
      [&](absl::string_view key, absl::string_view value) {
        uint64_t count = 0;
        if (!absl::SimpleAtoi(value, &count)) {
          bad =
              absl::DataLossError(absl::StrCat("count of expired hints is corrupt: '", value, "'"));
          return false;
        }
        counts[std::string(key.substr(kExpiredPrefix.size()))] = count;
        return true;
      }));
  RETURN_IF_ERROR(bad);
  return counts;
}

}  // namespace

std::string HintKey(absl::string_view home, absl::string_view key) {
  return absl::StrCat(home, absl::string_view("\0", 1), key);
}

bool SplitHintKey(absl::string_view hint_key, std::string* home, std::string* key) {
  const size_t zero = hint_key.find('\0');
  if (zero == absl::string_view::npos) return false;
  *home = std::string(hint_key.substr(0, zero));
  *key = std::string(hint_key.substr(zero + 1));
  return true;
}

absl::StatusOr<std::unique_ptr<HintStore>> HintStore::Open(Engine* engine, bool sync_writes,
                                                           RepairMarks* marks) {
  std::unique_ptr<HintStore> store(new HintStore(engine, sync_writes, marks));
  absl::Status bad;
  RETURN_IF_ERROR(engine->Scan(
      ColumnFamily::kHints, "", "", [&](absl::string_view hint_key, absl::string_view value) {
        std::string home, key;
        absl::StatusOr<DecodedHint> hint = DecodeHint(value);
        if (!SplitHintKey(hint_key, &home, &key) || !hint.ok()) {
          bad = absl::DataLossError("a stored hint is corrupt");
          return false;
        }
        store->Index(home, key, Indexed{hint->created, hint->newest_write, value.size()});
        return true;
      }));
  RETURN_IF_ERROR(bad);
  using ExpiredCounts = std::map<std::string, uint64_t>;
  ASSIGN_OR_RETURN(ExpiredCounts expired, ReadExpiredCounts(engine));
  absl::MutexLock lock(&store->index_mu_);
  store->expired_ = std::move(expired);
  store->held_any_.store(!store->index_.empty(), std::memory_order_relaxed);
  return store;
}

absl::Mutex& HintStore::LockFor(const std::string& hint_key) {
  return locks_[StableHash(hint_key) % kLockStripes];
}

absl::StatusOr<std::optional<HintStore::Stored>> HintStore::Load(const std::string& hint_key) {
  ASSIGN_OR_RETURN(std::optional<std::string> bytes, engine_->Get(ColumnFamily::kHints, hint_key));
  if (!bytes) return std::optional<Stored>();
  ASSIGN_OR_RETURN(DecodedHint hint, DecodeHint(*bytes));
  return std::optional<Stored>(
      Stored{std::move(hint.object), Indexed{hint.created, hint.newest_write, bytes->size()}});
}

void HintStore::Index(const std::string& home, const std::string& key, const Indexed& info) {
  absl::MutexLock lock(&index_mu_);
  IndexLocked(home, key, info);
}

void HintStore::IndexLocked(const std::string& home, const std::string& key, const Indexed& info) {
  HomeIndex& index = index_[home];
  auto [it, inserted] = index.by_key.try_emplace(key, info);
  if (!inserted) {
    index.bytes -= it->second.bytes;
    index.by_age.erase({it->second.created, key});
    index.by_newest.erase({it->second.newest_write, key});
    it->second = info;
  }
  index.bytes += info.bytes;
  index.by_age.insert({info.created, key});
  index.by_newest.insert({info.newest_write, key});
}

void HintStore::Unindex(const std::string& home, const std::string& key) {
  absl::MutexLock lock(&index_mu_);
  auto home_it = index_.find(home);
  if (home_it == index_.end()) return;
  HomeIndex& index = home_it->second;
  auto it = index.by_key.find(key);
  if (it == index.by_key.end()) return;
  index.bytes -= it->second.bytes;
  index.by_age.erase({it->second.created, key});
  index.by_newest.erase({it->second.newest_write, key});
  index.by_key.erase(it);
  if (index.by_key.empty()) index_.erase(home_it);
}

absl::StatusOr<std::optional<HintStore::Indexed>> HintStore::Reserve(const std::string& home,
                                                                     const std::string& key,
                                                                     const Indexed& info,
                                                                     const HintLimits& limits) {
  absl::MutexLock lock(&index_mu_);
  auto home_it = index_.find(home);
  uint64_t count = 0, total = 0;
  std::optional<Indexed> previous;
  if (home_it != index_.end()) {
    count = home_it->second.by_key.size();
    total = home_it->second.bytes;
    auto it = home_it->second.by_key.find(key);
    if (it != home_it->second.by_key.end()) previous = it->second;
  }
  if (!previous && count + 1 > limits.max_count) {
    return absl::ResourceExhaustedError(
        absl::StrCat("hints for ", home, " are full: ", count, " hints (max_hints_per_target)"));
  }
  const uint64_t old_bytes = previous ? previous->bytes : 0;
  if (total - old_bytes + info.bytes > limits.max_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("hints for ", home, " are full: ", total, " bytes, a hint of ", info.bytes,
                     " would pass max_hint_bytes_per_target=", limits.max_bytes));
  }
  IndexLocked(home, key, info);
  return previous;
}

void HintStore::Unreserve(const std::string& home, const std::string& key,
                          const std::optional<Indexed>& previous) {
  if (previous) {
    Index(home, key, *previous);
  } else {
    Unindex(home, key);
  }
}

absl::StatusOr<Object> HintStore::Update(absl::string_view home, absl::string_view key,
                                         const HintLimits& limits, absl::Time now,
                                         Mutation mutate) {
  const std::string hint_key = HintKey(home, key);
  absl::MutexLock lock(&LockFor(hint_key));
  ASSIGN_OR_RETURN(std::optional<Stored> current, Load(hint_key));
  std::optional<Object> current_object;
  if (current) current_object = current->object;
  ASSIGN_OR_RETURN(Object next, mutate(current_object));
  if (current && current->object == next) return next;
  RETURN_IF_ERROR(CheckDecodable(next));
  // Stored to the millisecond; the index keeps what a reopen would read.
  const absl::Time now_ms = absl::FromUnixMillis(absl::ToUnixMillis(now));
  const absl::Time created = current ? current->info.created : now_ms;
  // A clock stepped back leaves the newest write where it was: a hint's
  // expiry never comes earlier than its last write's.
  const absl::Time newest = current ? std::max(current->info.newest_write, now_ms) : now_ms;
  const std::string bytes = EncodeHint(next, created, newest);
  // The index takes the hint before the write so that two new hints under
  // different stripes cannot both pass max_count; a failed write gives the
  // reservation back.
  const std::string home_name(home), key_name(key);
  ASSIGN_OR_RETURN(std::optional<Indexed> previous,
                   Reserve(home_name, key_name, Indexed{created, newest, bytes.size()}, limits));
  WriteBatch batch;
  batch.Put(ColumnFamily::kHints, hint_key, bytes);
  if (absl::Status written = engine_->Write(batch, WriteOptions{.sync = sync_writes_});
      !written.ok()) {
    Unreserve(home_name, key_name, previous);
    return written;
  }
  held_any_.store(true, std::memory_order_relaxed);
  return next;
}

absl::StatusOr<std::optional<Object>> HintStore::Read(absl::string_view home,
                                                      absl::string_view key) {
  ASSIGN_OR_RETURN(std::optional<Stored> stored, Load(HintKey(home, key)));
  if (!stored) return std::optional<Object>();
  return std::optional<Object>(std::move(stored->object));
}

std::optional<HintInfo> HintStore::Info(absl::string_view home, absl::string_view key) {
  absl::MutexLock lock(&index_mu_);
  auto index = index_.find(std::string(home));
  if (index == index_.end()) return std::nullopt;
  auto it = index->second.by_key.find(std::string(key));
  if (it == index->second.by_key.end()) return std::nullopt;
  return HintInfo{.home = std::string(home),
                  .key = std::string(key),
                  .bytes = it->second.bytes,
                  .created = it->second.created,
                  .newest_write = it->second.newest_write};
}

absl::StatusOr<std::vector<std::pair<std::string, Object>>> HintStore::ReadAllHomes(
    absl::string_view key) {
  std::vector<std::string> homes;
  {
    absl::MutexLock lock(&index_mu_);
    const std::string key_name(key);
    for (const auto& [home, index] : index_) {
      if (index.by_key.count(key_name) > 0) homes.push_back(home);
    }
  }
  std::vector<std::pair<std::string, Object>> hints;
  for (const std::string& home : homes) {
    // Handoff may have deleted it since the index was read: then it is not kept.
    ASSIGN_OR_RETURN(std::optional<Object> hint, Read(home, key));
    if (hint) hints.emplace_back(home, *std::move(hint));
  }
  return hints;
}

absl::Status HintStore::Erase(absl::string_view home, absl::string_view key) {
  WriteBatch batch;
  batch.Delete(ColumnFamily::kHints, HintKey(home, key));
  // Not synced: a hint a crash brings back is delivered again, and merging
  // it twice changes nothing. (A synced delete per delivered hint would cap
  // handoff at the disk's fsync rate.)
  RETURN_IF_ERROR(engine_->Write(batch, WriteOptions{.sync = false}));
  Unindex(std::string(home), std::string(key));
  return absl::OkStatus();
}

absl::StatusOr<bool> HintStore::DeleteIfUnchanged(absl::string_view home, absl::string_view key,
                                                  const Object& delivered) {
  const std::string hint_key = HintKey(home, key);
  absl::MutexLock lock(&LockFor(hint_key));
  ASSIGN_OR_RETURN(std::optional<Stored> current, Load(hint_key));
  if (!current || !(current->object == delivered)) return false;
  RETURN_IF_ERROR(Erase(home, key));
  return true;
}

absl::StatusOr<bool> HintStore::DropExpired(absl::string_view home, absl::string_view key,
                                            absl::Time written_before, uint32_t partition) {
  absl::MutexLock drop(&drop_mu_);
  const std::string home_name(home);
  uint64_t count = 1;
  {
    absl::MutexLock lock(&index_mu_);
    if (auto it = expired_.find(home_name); it != expired_.end()) count = it->second + 1;
  }
  const std::string hint_key = HintKey(home, key);
  absl::MutexLock lock(&LockFor(hint_key));
  ASSIGN_OR_RETURN(std::optional<Stored> current, Load(hint_key));
  if (!current || current->info.newest_write >= written_before) return false;
  WriteBatch batch;
  batch.Delete(ColumnFamily::kHints, hint_key);
  batch.Put(ColumnFamily::kMeta, absl::StrCat(kExpiredPrefix, home), absl::StrCat(count));
  RepairMarks::Stage(partition, &batch);
  // Synced, unlike a delivered hint's delete: the count and the repair mark
  // must not be lost while the hint is gone.
  RETURN_IF_ERROR(engine_->Write(batch, WriteOptions{.sync = true}));
  marks_->Recorded(partition);
  Unindex(home_name, std::string(key));
  absl::MutexLock index(&index_mu_);
  expired_[home_name] = count;
  return true;
}

std::vector<HintInfo> HintStore::ListOf(const ByTime& order, const HomeIndex& index,
                                        absl::string_view home, absl::Time before, size_t limit) {
  std::vector<HintInfo> hints;
  for (const auto& [at, key] : order) {
    if (hints.size() == limit || at >= before) break;
    const Indexed& info = index.by_key.at(key);
    hints.push_back(HintInfo{.home = std::string(home),
                             .key = key,
                             .bytes = info.bytes,
                             .created = info.created,
                             .newest_write = info.newest_write});
  }
  return hints;
}

std::vector<HintInfo> HintStore::List(absl::string_view home, size_t limit) {
  absl::MutexLock lock(&index_mu_);
  auto it = index_.find(std::string(home));
  if (it == index_.end()) return {};
  return ListOf(it->second.by_age, it->second, home, absl::InfiniteFuture(), limit);
}

std::vector<HintInfo> HintStore::ListWrittenBefore(absl::string_view home,
                                                   absl::Time written_before, size_t limit) {
  absl::MutexLock lock(&index_mu_);
  auto it = index_.find(std::string(home));
  if (it == index_.end()) return {};
  return ListOf(it->second.by_newest, it->second, home, written_before, limit);
}

std::vector<HintSummary> HintStore::Summarize() {
  absl::MutexLock lock(&index_mu_);
  std::map<std::string, HintSummary> by_home;
  for (const auto& [home, count] : expired_) {
    by_home[home] = HintSummary{.home = home, .expired = count};
  }
  for (const auto& [home, index] : index_) {
    HintSummary& s = by_home[home];
    s.home = home;
    s.count = index.by_key.size();
    s.bytes = index.bytes;
    if (!index.by_age.empty()) s.oldest = index.by_age.begin()->first;
    if (!index.by_newest.empty()) s.stalest = index.by_newest.begin()->first;
  }
  std::vector<HintSummary> summaries;
  summaries.reserve(by_home.size());
  for (auto& [home, s] : by_home) summaries.push_back(std::move(s));
  return summaries;
}

}  // namespace quorumkv
