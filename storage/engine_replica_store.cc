#include "storage/engine_replica_store.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <random>
#include <set>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "replication/logging.h"
#include "replication/object_codec.h"
#include "replication/ring.h"
#include "replication/status_macros.h"
#include "storage/segment_index.h"
#include "storage/tombstone_index.h"

namespace quorumkv {
namespace {

// Holds the key-lock stripes of a batch: locked in ascending order, as
// every batch locks them, so that no two batches wait for each other in a
// cycle; unlocked in reverse. The set is chosen at run time, which the
// lock annotations cannot follow: the stripes guard storage rows, not
// members.
class StripeLocks {
 public:
  StripeLocks(absl::Mutex* locks, std::vector<size_t> stripes) ABSL_NO_THREAD_SAFETY_ANALYSIS
      : locks_(locks),
        stripes_(std::move(stripes)) {
    std::sort(stripes_.begin(), stripes_.end());
    stripes_.erase(std::unique(stripes_.begin(), stripes_.end()), stripes_.end());
    for (size_t s : stripes_) locks_[s].Lock();
  }
  ~StripeLocks() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    for (auto it = stripes_.rbegin(); it != stripes_.rend(); ++it) locks_[*it].Unlock();
  }
  StripeLocks(const StripeLocks&) = delete;
  StripeLocks& operator=(const StripeLocks&) = delete;

 private:
  absl::Mutex* const locks_;
  std::vector<size_t> stripes_;
};

constexpr absl::string_view kActorKey = "actor";
constexpr absl::string_view kDotLeaseKey = "dot_lease";
constexpr absl::string_view kCleanShutdownKey = "clean_shutdown";
constexpr absl::string_view kUnsyncedRunKey = "unsynced_run";  // no longer written
constexpr absl::string_view kHoldsDataPrefix = "holds_data/";
// Present from the first open of an empty directory until the node's peers
// settle whether it is new or lost its data (replication/empty_start.h).
constexpr absl::string_view kEmptyStartKey = "empty_start";

uint32_t RandomEpoch() {
  std::random_device rd;
  return static_cast<uint32_t>(rd());
}

// A random 32-bit number, in 8 hex digits.
std::string RandomHex(const ReplicaStoreOptions& options) {
  const uint32_t epoch = options.new_epoch ? options.new_epoch() : RandomEpoch();
  char hex[9];
  std::snprintf(hex, sizeof(hex), "%08" PRIx32, epoch);
  return hex;
}

// "<node>.<8 hex digits of a random epoch>": the actor of a new directory.
std::string FreshActor(const ReplicaStoreOptions& options) {
  return absl::StrCat(options.node_id, ".", RandomHex(options));
}

// The next generation of an actor of the same directory: "<node>.<epoch>"
// becomes "<node>.<epoch>.<8 random hex digits>" (a later one replaces the
// last part). Random, not counted: the log may lose the very record of a
// generation (its actor and lease), and a counted one would then be taken
// again, with its dots. Distinct, but for chance, from every earlier actor.
std::string NextGeneration(absl::string_view actor, const ReplicaStoreOptions& options) {
  const absl::string_view rest = actor.substr(options.node_id.size() + 1);
  const absl::string_view epoch = rest.substr(0, rest.find('.'));
  return absl::StrCat(options.node_id, ".", epoch, ".", RandomHex(options));
}

// Why the last run's writes may not all be here, or "" if they provably
// are: the last run stopped cleanly (its synced clean mark, written after
// every write, was recovered), or the engine recovered every write it had
// acknowledged. An engine that found writes missing is believed over the
// clean mark (an older copy of a cleanly stopped directory carries one).
std::string WhyWritesMayBeLost(const RecoveryReport& report, bool clean) {
  using Verdict = RecoveryReport::Verdict;
  if (report.verdict == Verdict::kLost) return report.detail;
  if (clean || report.verdict == Verdict::kComplete) return "";
  return absl::StrCat("an unclean stop, and ", report.detail);
}

// The actor of this open: the stored one, unless the directory is new (a
// fresh actor) or the last run's acknowledged writes may not all be here
// (the actor's next generation, and every partition marked for repair).
absl::StatusOr<std::string> ActorForOpen(Engine* engine, const ReplicaStoreOptions& options) {
  ASSIGN_OR_RETURN(std::optional<std::string> actor, engine->Get(ColumnFamily::kMeta, kActorKey));
  ASSIGN_OR_RETURN(std::optional<std::string> clean,
                   engine->Get(ColumnFamily::kMeta, kCleanShutdownKey));
  std::string next;
  std::string lost;
  if (!actor) {
    next = FreshActor(options);
  } else if (!absl::StartsWith(*actor, absl::StrCat(options.node_id, "."))) {
    return absl::FailedPreconditionError(absl::StrCat("data directory belongs to actor ", *actor,
                                                      ", not to node ", options.node_id));
  } else {
    lost = WhyWritesMayBeLost(engine->LastRecovery(), clean.has_value());
    next = lost.empty() ? *actor : NextGeneration(*actor, options);
  }
  // One synced batch: the clean mark is used up (a crash of this run must
  // not find it), and a loss is marked before any write of the new actor.
  WriteBatch batch;
  batch.Put(ColumnFamily::kMeta, kActorKey, next);
  batch.Delete(ColumnFamily::kMeta, kCleanShutdownKey);
  batch.Delete(ColumnFamily::kMeta, kUnsyncedRunKey);  // of older versions
  if (!lost.empty()) RepairMarks::Stage(kEveryPartition, &batch);
  if (!actor) batch.Put(ColumnFamily::kMeta, kEmptyStartKey, "1");
  RETURN_IF_ERROR(engine->Write(batch, WriteOptions{.sync = true}));
  if (!lost.empty()) {
    LogEvent(LogLevel::kWarning, "new_dot_generation",
             {{"actor", next},
              {"was", *actor},
              {"why", lost},
              {"msg",
               "cannot prove it kept every write it acknowledged: new actor generation, "
               "every partition marked for repair"}});
  } else if (!actor) {
    LogEvent(LogLevel::kInfo, "new_actor", {{"actor", next}, {"why", "empty data directory"}});
  }
  return next;
}

// The actors of other nodes this node has seen holding data.
absl::StatusOr<std::set<std::string>> ReadActorsHoldingData(Engine* engine) {
  std::set<std::string> actors;
  RETURN_IF_ERROR(engine->Scan(ColumnFamily::kMeta, kHoldsDataPrefix,
                               absl::StrCat(kHoldsDataPrefix, "\xff"),
                               [&](absl::string_view key, absl::string_view) {
                                 actors.insert(std::string(key.substr(kHoldsDataPrefix.size())));
                                 return true;
                               }));
  return actors;
}

// Whether the data column family holds any key.
absl::StatusOr<bool> HasAnyReplica(Engine* engine) {
  bool any = false;
  RETURN_IF_ERROR(
      engine->Scan(ColumnFamily::kData, "", "", [&](absl::string_view, absl::string_view) {
        any = true;
        return false;
      }));
  return any;
}

absl::StatusOr<uint64_t> ReadLease(Engine* engine) {
  ASSIGN_OR_RETURN(std::optional<std::string> lease,
                   engine->Get(ColumnFamily::kMeta, kDotLeaseKey));
  if (!lease) return 0;
  uint64_t value = 0;
  if (!absl::SimpleAtoi(*lease, &value)) {
    return absl::DataLossError(absl::StrCat("dot lease is corrupt: '", *lease, "'"));
  }
  return value;
}

}  // namespace

absl::StatusOr<std::unique_ptr<EngineReplicaStore>> EngineReplicaStore::Open(
    Engine* engine, ReplicaStoreOptions options) {
  if (options.dot_lease_block == 0) return absl::InvalidArgumentError("dot_lease_block is 0");
  Opened opened;
  ASSIGN_OR_RETURN(std::optional<std::string> actor, engine->Get(ColumnFamily::kMeta, kActorKey));
  ASSIGN_OR_RETURN(opened.actor, ActorForOpen(engine, options));
  ASSIGN_OR_RETURN(std::optional<std::string> empty_start,
                   engine->Get(ColumnFamily::kMeta, kEmptyStartKey));
  opened.empty_start_unsettled = empty_start.has_value();
  ASSIGN_OR_RETURN(opened.lease, ReadLease(engine));
  ASSIGN_OR_RETURN(opened.marks, RepairMarks::Open(engine));
  ASSIGN_OR_RETURN(opened.hints, HintStore::Open(engine, options.sync_writes, opened.marks.get()));
  ASSIGN_OR_RETURN(opened.actors_holding_data, ReadActorsHoldingData(engine));
  ASSIGN_OR_RETURN(opened.holds_data, HasAnyReplica(engine));
  RETURN_IF_ERROR(segment_index::BuildIfMissing(engine));
  RETURN_IF_ERROR(tombstone_index::BuildIfMissing(engine));
  return std::unique_ptr<EngineReplicaStore>(
      new EngineReplicaStore(engine, std::move(options), std::move(opened)));
}

EngineReplicaStore::EngineReplicaStore(Engine* engine, ReplicaStoreOptions options, Opened opened)
    : engine_(engine),
      options_(std::move(options)),
      actor_(std::move(opened.actor)),
      marks_(std::move(opened.marks)),
      hints_(std::move(opened.hints)),
      holds_data_(opened.holds_data),
      actors_holding_data_(std::move(opened.actors_holding_data)),
      empty_start_unsettled_(opened.empty_start_unsettled),
      next_counter_(opened.lease + 1),
      lease_end_(opened.lease) {}

std::set<std::string> EngineReplicaStore::ActorsSeenHoldingData() {
  absl::MutexLock lock(&memory_mu_);
  return actors_holding_data_;
}

absl::Status EngineReplicaStore::RecordActorHoldsData(const std::string& actor) {
  absl::MutexLock record(&record_mu_);
  {
    absl::MutexLock memory(&memory_mu_);
    if (actors_holding_data_.count(actor) > 0) return absl::OkStatus();
  }
  WriteBatch batch;
  batch.Put(ColumnFamily::kMeta, absl::StrCat(kHoldsDataPrefix, actor), "1");
  RETURN_IF_ERROR(engine_->Write(batch, WriteOptions{.sync = true}));
  absl::MutexLock memory(&memory_mu_);
  actors_holding_data_.insert(actor);
  return absl::OkStatus();
}

bool EngineReplicaStore::EmptyStartUnsettled() {
  absl::MutexLock lock(&memory_mu_);
  return empty_start_unsettled_;
}

absl::Status EngineReplicaStore::SettleEmptyStart() {
  absl::MutexLock record(&record_mu_);
  WriteBatch batch;
  batch.Delete(ColumnFamily::kMeta, kEmptyStartKey);
  RETURN_IF_ERROR(engine_->Write(batch, WriteOptions{.sync = true}));
  absl::MutexLock memory(&memory_mu_);
  empty_start_unsettled_ = false;
  return absl::OkStatus();
}

absl::Status EngineReplicaStore::CloseCleanly() {
  WriteBatch batch;
  batch.Put(ColumnFamily::kMeta, kCleanShutdownKey, "1");
  return engine_->Write(batch, WriteOptions{.sync = true});
}

size_t EngineReplicaStore::StripeOf(absl::string_view key) {
  return StableHash(key) % kKeyLockStripes;
}

absl::StatusOr<std::optional<Object>> EngineReplicaStore::Read(absl::string_view key) {
  ASSIGN_OR_RETURN(std::optional<std::string> bytes, engine_->Get(ColumnFamily::kData, key));
  if (!bytes) return std::optional<Object>();
  ASSIGN_OR_RETURN(Object object, DecodeObject(*bytes));
  return std::optional<Object>(std::move(object));
}

absl::Status EngineReplicaStore::ForEachObject(ObjectVisitor visit) {
  absl::Status corrupt;
  RETURN_IF_ERROR(engine_->Scan(
      ColumnFamily::kData, "", "", [&](absl::string_view key, absl::string_view bytes) {
        absl::StatusOr<Object> object = DecodeObject(bytes);
        if (!object.ok()) {
          corrupt = absl::DataLossError(
              absl::StrCat("stored object of ", key, ": ", object.status().message()));
          return false;
        }
        visit(key, *object);
        return true;
      }));
  return corrupt;
}

absl::Status EngineReplicaStore::ForEachObjectInSegment(uint32_t segment, uint64_t hash_first,
                                                        uint64_t hash_last, ObjectVisitor visit) {
  absl::Status read;
  RETURN_IF_ERROR(
      segment_index::ScanKeys(engine_, segment, hash_first, hash_last, [&](absl::string_view key) {
        absl::StatusOr<std::optional<Object>> object = Read(key);
        if (!object.ok()) {
          read = object.status();
          return false;
        }
        if (*object) visit(key, **object);  // an entry always has its object; be lenient
        return true;
      }));
  return read;
}

absl::Status EngineReplicaStore::ForEachTombstoneBefore(uint64_t hlc_before,
                                                        TombstoneVisitor visit) {
  absl::Status read;
  std::vector<std::pair<uint64_t, std::string>> stale;
  RETURN_IF_ERROR(
      tombstone_index::Scan(engine_, hlc_before, [&](uint64_t deleted_at, absl::string_view key) {
        absl::StatusOr<std::optional<Object>> object = Read(key);
        if (!object.ok()) {
          read = object.status();
          return false;
        }
        if (!*object || TombstoneTime(**object) != deleted_at) {
          stale.emplace_back(deleted_at, std::string(key));
          return true;
        }
        return visit(key, **object);
      }));
  RETURN_IF_ERROR(read);
  return DropStaleTombstoneEntries(stale);
}

absl::Status EngineReplicaStore::DropStaleTombstoneEntries(
    const std::vector<std::pair<uint64_t, std::string>>& entries) {
  if (entries.empty()) return absl::OkStatus();
  std::vector<size_t> stripes;
  for (const auto& [time, key] : entries) stripes.push_back(StripeOf(key));
  const StripeLocks locked(key_locks_.data(), std::move(stripes));
  WriteBatch batch;
  for (const auto& [time, key] : entries) {
    // Checked again under the key's lock: the same tombstone may have
    // come back since (a purged key deleted again by a peer's copy).
    ASSIGN_OR_RETURN(std::optional<Object> object, Read(key));
    if (!object || TombstoneTime(*object) != time) tombstone_index::Unstage(time, key, &batch);
  }
  if (batch.empty()) return absl::OkStatus();
  // Unsynced: a stale entry that comes back after a crash is dropped again.
  return engine_->Write(batch, WriteOptions{.sync = false});
}

absl::StatusOr<std::vector<bool>> EngineReplicaStore::PurgeTombstones(
    const std::vector<Purge>& purges) {
  std::vector<size_t> stripes;
  for (const Purge& p : purges) stripes.push_back(StripeOf(p.key));
  const StripeLocks locked(key_locks_.data(), std::move(stripes));
  std::vector<bool> purged(purges.size(), false);
  absl::flat_hash_set<std::string> removed;  // a key listed twice is removed once
  WriteBatch batch;
  for (size_t i = 0; i < purges.size(); ++i) {
    const Purge& p = purges[i];
    const std::optional<uint64_t> deleted_at = TombstoneTime(p.object);
    if (!deleted_at || removed.contains(p.key)) continue;
    ASSIGN_OR_RETURN(std::optional<Object> current, Read(p.key));
    if (!current || *current != p.object) continue;
    batch.Delete(ColumnFamily::kData, p.key);
    segment_index::Unstage(p.key, &batch);
    tombstone_index::Unstage(*deleted_at, p.key, &batch);
    removed.insert(p.key);
    purged[i] = true;
  }
  if (!batch.empty()) RETURN_IF_ERROR(engine_->Write(batch, WriteOptions{.sync = true}));
  return purged;
}

absl::StatusOr<Object> EngineReplicaStore::Update(absl::string_view key, Mutation mutate) {
  return UpdateBatch({KeyUpdate{key, mutate}})[0];
}

std::vector<absl::StatusOr<Object>> EngineReplicaStore::UpdateBatch(
    const std::vector<KeyUpdate>& updates) {
  std::vector<size_t> stripes;
  for (const KeyUpdate& u : updates) stripes.push_back(StripeOf(u.key));
  const StripeLocks locked(key_locks_.data(), std::move(stripes));

  std::vector<absl::StatusOr<Object>> results;
  results.reserve(updates.size());
  // The keys this batch writes, with their latest state: a later update of
  // one sees it, and its result rests on the batch's write.
  absl::flat_hash_map<std::string, Object> staged;
  std::vector<bool> rests_on_write;
  WriteBatch batch;
  for (const KeyUpdate& u : updates) {
    results.push_back(StageUpdate(u, &staged, &batch));
    rests_on_write.push_back(results.back().ok() && staged.contains(u.key));
  }
  if (!batch.ops().empty()) {
    absl::Status written = engine_->Write(batch, WriteOptions{.sync = options_.sync_writes});
    if (!written.ok()) {
      for (size_t i = 0; i < results.size(); ++i) {
        if (rests_on_write[i]) results[i] = written;
      }
    } else {
      holds_data_.store(true, std::memory_order_relaxed);
    }
  }
  return results;
}

absl::StatusOr<Object> EngineReplicaStore::StageUpdate(
    const KeyUpdate& update, absl::flat_hash_map<std::string, Object>* staged, WriteBatch* batch) {
  std::optional<Object> current;
  auto it = staged->find(update.key);
  if (it != staged->end()) {
    current = it->second;
  } else {
    ASSIGN_OR_RETURN(current, Read(update.key));
  }
  ASSIGN_OR_RETURN(Object next, update.mutate(current));
  // Unchanged: what is stored is already as durable as an earlier update made it.
  if (current && *current == next) return next;
  // Never store what could not be read back.
  RETURN_IF_ERROR(CheckDecodable(next));
  batch->Put(ColumnFamily::kData, update.key, EncodeObject(next));
  // The key's first object (an earlier update of the batch stages one as
  // current): its segment index entry, in the same batch.
  if (!current) segment_index::Stage(update.key, batch);
  // A newly deleted key (or deleted again): its tombstone index entry.
  const std::optional<uint64_t> deleted_at = TombstoneTime(next);
  if (deleted_at && (!current || TombstoneTime(*current) != deleted_at)) {
    tombstone_index::Stage(*deleted_at, update.key, batch);
  }
  (*staged)[update.key] = next;
  return next;
}

absl::StatusOr<Dot> EngineReplicaStore::IssueDot() {
  absl::MutexLock lock(&dot_mu_);
  if (next_counter_ > lease_end_.load()) {
    const uint64_t new_end = next_counter_ + options_.dot_lease_block - 1;
    WriteBatch batch;
    batch.Put(ColumnFamily::kMeta, kDotLeaseKey, absl::StrCat(new_end));
    // Always synced: a lost lease would let a restart reuse dots.
    RETURN_IF_ERROR(engine_->Write(batch, WriteOptions{.sync = true}));
    lease_end_.store(new_end);
  }
  return Dot{actor_, next_counter_++};
}

DotLease EngineReplicaStore::Lease() {
  return DotLease{.ceiling = lease_end_.load(), .block = options_.dot_lease_block};
}

absl::Status EngineReplicaStore::MarkPartitionForRepair(uint32_t partition) {
  return marks_->Mark(partition);
}

absl::StatusOr<std::vector<uint32_t>> EngineReplicaStore::PartitionsMarkedForRepair() {
  return marks_->List();
}

bool EngineReplicaStore::MarkedForRepair(uint32_t partition) { return marks_->Marked(partition); }

uint64_t EngineReplicaStore::last_issued_counter() const {
  absl::MutexLock lock(&dot_mu_);
  return next_counter_ - 1;
}

}  // namespace quorumkv
