#include "tests/sim/sim_node.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "replication/object_codec.h"
#include "replication/status_macros.h"
#include "storage/hint_store.h"

namespace quorumkv::sim {
namespace {

bool HasDot(const Object& object, const Dot& dot) {
  return std::any_of(object.siblings.begin(), object.siblings.end(),
                     [&](const Sibling& s) { return s.dot == dot; });
}

void InsertSorted(Object& object, const Sibling& sibling) {
  auto pos = std::upper_bound(object.siblings.begin(), object.siblings.end(), sibling,
                              [](const Sibling& a, const Sibling& b) { return a.dot < b.dot; });
  object.siblings.insert(pos, sibling);
}

// Every object of a column family of `engine`, by key (a hint's key is
// "<home>\0<key>").
std::map<std::string, std::string> Snapshot(MemEngine& engine, ColumnFamily cf) {
  std::map<std::string, std::string> all;
  (void)engine.Scan(cf, "", "", [&](absl::string_view key, absl::string_view value) {
    all.emplace(key, value);
    return true;
  });
  return all;
}

// The object a stored value holds: a replica's, or a hint's.
absl::StatusOr<Object> DecodeStored(const std::string& bytes, bool hint) {
  if (!hint) return DecodeObject(bytes);
  pb::HintProto proto;
  if (!proto.ParseFromString(bytes)) return absl::DataLossError("a stored hint does not parse");
  return FromProto(proto.object());
}

}  // namespace

RecordingStore::OwnedMutation RecordingStore::Mutated(ReplicaStore::Mutation mutate) const {
  return [this, mutate](const std::optional<Object>& current) -> absl::StatusOr<Object> {
    ASSIGN_OR_RETURN(Object next, mutate(current));
    if (Is(sim::Mutation::kDropSibling) && next.siblings.size() >= 2) next.siblings.pop_back();
    if (Is(sim::Mutation::kResurrect) && current) {
      for (const Sibling& s : current->siblings) {
        if (!HasDot(next, s.dot)) InsertSorted(next, s);
      }
    }
    if (Is(sim::Mutation::kRefuseOthersWrites) && current) {
      for (const Sibling& s : next.siblings) {
        if (!HasDot(*current, s.dot) && !absl::StartsWith(s.dot.actor, node_ + ".")) {
          return *current;
        }
      }
    }
    return next;
  };
}

absl::StatusOr<Object> RecordingStore::Update(absl::string_view key,
                                              ReplicaStore::Mutation mutate) {
  ASSIGN_OR_RETURN(Object stored, base()->Update(key, Mutated(mutate)));
  recorder_->Stored(stored);
  return stored;
}

absl::StatusOr<std::vector<bool>> RecordingStore::PurgeTombstones(
    const std::vector<Purge>& purges) {
  absl::StatusOr<std::vector<bool>> purged = base()->PurgeTombstones(purges);
  if (!purged.ok()) return purged;
  for (size_t i = 0; i < purges.size(); ++i) {
    if ((*purged)[i]) recorder_->Purged(purges[i].key, purges[i].object);
  }
  return purged;
}

std::vector<absl::StatusOr<Object>> RecordingStore::UpdateBatch(
    const std::vector<KeyUpdate>& updates) {
  // The mutation ack-unstored-writes: every tenth update is reported stored
  // while the old state stays (its result is kept aside and returned).
  std::vector<std::optional<absl::StatusOr<Object>>> unstored(updates.size());
  std::vector<OwnedMutation> mutations;
  mutations.reserve(updates.size());  // the KeyUpdates below refer to them
  for (size_t i = 0; i < updates.size(); ++i) {
    OwnedMutation mutate = Mutated(updates[i].mutate);
    if (Is(sim::Mutation::kAckUnstoredWrites) && ++updates_seen_ % 10 == 0) {
      mutate = [&unstored, i,
                mutate](const std::optional<Object>& current) -> absl::StatusOr<Object> {
        unstored[i] = mutate(current);
        if (!unstored[i]->ok()) return unstored[i]->status();
        return current ? *current : Object();
      };
    }
    mutations.push_back(std::move(mutate));
  }
  std::vector<KeyUpdate> wrapped;
  for (size_t i = 0; i < updates.size(); ++i) {
    wrapped.push_back(KeyUpdate{updates[i].key, mutations[i]});
  }
  std::vector<absl::StatusOr<Object>> results = base()->UpdateBatch(wrapped);
  for (size_t i = 0; i < results.size(); ++i) {
    if (results[i].ok() && unstored[i]) results[i] = *unstored[i];
    if (results[i].ok()) recorder_->Stored(*results[i]);
  }
  return results;
}

absl::StatusOr<Object> RecordingHints::Update(absl::string_view home, absl::string_view key,
                                              const HintLimits& limits, absl::Time now,
                                              Mutation mutate) {
  if (mutation_ == sim::Mutation::kAckUnstoredHints) {
    ASSIGN_OR_RETURN(std::optional<Object> current, base_->Read(home, key));
    return mutate(current);  // acked, never stored
  }
  ASSIGN_OR_RETURN(Object stored, base_->Update(home, key, limits, now, mutate));
  recorder_->Stored(stored);
  return stored;
}

absl::StatusOr<std::vector<std::pair<std::string, Object>>> RecordingHints::ReadAllHomes(
    absl::string_view key) {
  if (mutation_ == sim::Mutation::kFallbackIgnoresHints) {
    return std::vector<std::pair<std::string, Object>>();
  }
  return base_->ReadAllHomes(key);
}

absl::StatusOr<bool> RecordingHints::DeleteIfUnchanged(absl::string_view home,
                                                       absl::string_view key,
                                                       const Object& delivered) {
  if (mutation_ == sim::Mutation::kKeepDeliveredHints) return false;
  return base_->DeleteIfUnchanged(home, key, delivered);
}

absl::StatusOr<bool> RecordingHints::DropExpired(absl::string_view home, absl::string_view key,
                                                 absl::Time written_before, uint32_t partition) {
  ASSIGN_OR_RETURN(std::optional<Object> hint, base_->Read(home, key));
  bool dropped = false;
  if (mutation_ == sim::Mutation::kUncountedExpiry && hint) {
    ASSIGN_OR_RETURN(dropped, base_->DeleteIfUnchanged(home, key, *hint));
  } else {
    ASSIGN_OR_RETURN(dropped, base_->DropExpired(home, key, written_before, partition));
  }
  if (dropped && hint) {
    ++recorder_->hints_expired[node_];
    recorder_->CopyLost(std::string(key), *hint);
    recorder_->expired_hints[std::string(key)].emplace_back(node_, hint->context);
    if (recorder_->on_copy_dropped) recorder_->on_copy_dropped();
  }
  return dropped;
}

absl::StatusOr<Dot> RecordingStore::IssueDot() {
  ASSIGN_OR_RETURN(Dot dot, base()->IssueDot());
  if (Is(sim::Mutation::kReuseDot) && ++dots_issued_ % 5 == 0 && dot.counter > 1) --dot.counter;
  recorder_->DotIssued(dot);
  return dot;
}

SimNode::SimNode(SimNodeOptions options, SimWorld* world, SimNetwork* network, Recorder* recorder)
    : options_(std::move(options)),
      world_(world),
      recorder_(recorder),
      clock_(world->clock(), options_.skew),
      transport_(options_.id, network, &clock_) {}

SimNode::~SimNode() = default;

void SimNode::Start() {
  if (up()) return;
  transport_.Restart();
  ReplicaStoreOptions store_options{
      .node_id = options_.id,
      .sync_writes = options_.config.sync_writes(),
      .dot_lease_block = 7,  // small, so restarts cross lease boundaries often
      .new_epoch = [this] { return static_cast<uint32_t>(world_->rng()()); }};
  base_store_ = *EngineReplicaStore::Open(&engine_, std::move(store_options));
  store_ = std::make_unique<RecordingStore>(base_store_.get(), recorder_, options_.id,
                                            options_.mutation, options_.id == "n1");
  hints_ = std::make_unique<RecordingHints>(base_store_->hints(), recorder_, options_.id,
                                            options_.mutation);
  node_ = *ReplicaNode::Create(ReplicaNodeOptions{.self = options_.id, .config = options_.config},
                               store_.get(), hints_.get(), &transport_, &clock_);
  world_->Trace(absl::StrCat(id(), " started (actor ", store_->actor(), ")"));
  ScheduleTick();
}

void SimNode::ScheduleTick() {
  const uint64_t life = incarnation_;
  world_->After(kTickInterval, [this, life] {
    if (!up() || incarnation_ != life) return;
    node_->Tick();
    // The mutation purge-without-proof: n1 never compares (and answers
    // every exchange that it agrees, SimTransport::Exchange).
    if (!(mutation() == sim::Mutation::kPurgeWithoutProof && id() == "n1")) {
      node_->AntiEntropyTick();
    }
    ScheduleTick();
  });
}

void SimNode::Crash() {
  if (!up()) return;
  ++incarnation_;
  node_.reset();
  hints_.reset();
  store_.reset();
  base_store_.reset();
  world_->Trace(absl::StrCat(id(), " crashed"));
}

void SimNode::LoseStoredCopies(const std::function<void()>& lose) {
  const auto data = Snapshot(engine_, ColumnFamily::kData);
  const auto hints = Snapshot(engine_, ColumnFamily::kHints);
  lose();
  const auto data_after = Snapshot(engine_, ColumnFamily::kData);
  const auto hints_after = Snapshot(engine_, ColumnFamily::kHints);
  auto compare = [&](const auto& before, const auto& after, bool hint) {
    for (const auto& [stored_key, bytes] : before) {
      auto it = after.find(stored_key);
      if (it != after.end() && it->second == bytes) continue;
      std::string home, key = stored_key;
      if (hint && !SplitHintKey(stored_key, &home, &key)) continue;
      absl::StatusOr<Object> object = DecodeStored(bytes, hint);
      if (object.ok()) recorder_->CopyLost(key, *object);
    }
  };
  compare(data, data_after, false);
  compare(hints, hints_after, true);
}

uint64_t SimNode::ExpiredCountOnDisk() {
  uint64_t total = 0;
  (void)engine_.Scan(ColumnFamily::kMeta, "hints_expired/", "hints_expired0",
                     [&](absl::string_view, absl::string_view value) {
                       uint64_t count = 0;
                       if (absl::SimpleAtoi(value, &count)) total += count;
                       return true;
                     });
  return total;
}

void SimNode::LoseCopies(const std::function<void()>& lose) {
  LoseStoredCopies(lose);
  // The disk may have lost counts of expired hints too: what it holds now
  // is what the node counted.
  recorder_->hints_expired[id()] = ExpiredCountOnDisk();
}

void SimNode::PowerLoss() {
  Crash();
  LoseCopies([this] { engine_.SimulatePowerLoss(); });
  world_->Trace(absl::StrCat(id(), " lost power: unsynced writes are gone"));
}

size_t SimNode::LoseLogTail(size_t batches) {
  Crash();
  size_t lost = 0;
  LoseCopies([&] { lost = engine_.SimulateLostLogTail(batches); });
  world_->Trace(absl::StrCat(id(), "'s log lost its last ", lost, " synced writes"));
  return lost;
}

void SimNode::Wipe() {
  Crash();
  LoseCopies([this] { engine_.Wipe(); });
  world_->Trace(absl::StrCat(id(), "'s disk was replaced by an empty one"));
}

absl::StatusOr<std::optional<Object>> SimNode::ReadStored(const std::string& key) {
  ASSIGN_OR_RETURN(std::optional<std::string> bytes, engine_.Get(ColumnFamily::kData, key));
  if (!bytes) return std::optional<Object>();
  ASSIGN_OR_RETURN(Object object, DecodeObject(*bytes));
  return std::optional<Object>(std::move(object));
}

VersionVector SimNode::DurableContext(const std::string& key) {
  std::optional<std::string> bytes = engine_.GetDurable(ColumnFamily::kData, key);
  if (!bytes) return VersionVector();
  absl::StatusOr<Object> object = DecodeObject(*bytes);
  return object.ok() ? object->context : VersionVector();
}

absl::StatusOr<std::map<std::string, Object>> SimNode::ReadHints(const std::string& key) {
  std::map<std::string, Object> hints;
  absl::Status bad;
  RETURN_IF_ERROR(engine_.Scan(
      ColumnFamily::kHints, "", "", [&](absl::string_view hint_key, absl::string_view value) {
        std::string home, hinted_key;
        pb::HintProto proto;
        if (!SplitHintKey(hint_key, &home, &hinted_key) ||
            !proto.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          bad = absl::DataLossError("bad hint");
          return false;
        }
        if (hinted_key != key) return true;
        absl::StatusOr<Object> object = FromProto(proto.object());
        if (!object.ok()) {
          bad = object.status();
          return false;
        }
        hints[home] = *std::move(object);
        return true;
      }));
  RETURN_IF_ERROR(bad);
  return hints;
}

bool SimNode::HoldsVersion(const std::string& key) {
  absl::StatusOr<std::optional<Object>> replica = ReadStored(key);
  if (replica.ok() && replica->has_value()) return true;
  absl::StatusOr<std::map<std::string, Object>> hints = ReadHints(key);
  return hints.ok() && !hints->empty();
}

size_t SimNode::HintCount() {
  size_t count = 0;
  (void)engine_.Scan(ColumnFamily::kHints, "", "", [&](absl::string_view, absl::string_view) {
    ++count;
    return true;
  });
  return count;
}

}  // namespace quorumkv::sim
