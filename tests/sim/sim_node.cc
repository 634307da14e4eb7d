#include "tests/sim/sim_node.h"

#include "absl/strings/str_cat.h"
#include "replication/object_codec.h"
#include "replication/status_macros.h"
#include "storage/hint_store.h"

namespace quorumkv::sim {

void Recorder::DotIssued(const Dot& dot) {
  uint64_t& last = last_counter[dot.actor];
  if (dot.counter <= last) {
    dot_violations.push_back(
        absl::StrCat("actor ", dot.actor, " issued counter ", dot.counter, " after ", last));
  }
  last = std::max(last, dot.counter);
  if (current_op >= 0) {
    dot_of_op[current_op] = dot;
    op_of_dot[dot] = current_op;
  }
}

void Recorder::Stored(const Object& object) {
  for (const Sibling& s : object.siblings) stored.insert(s.dot);
}

std::function<absl::StatusOr<Object>(const std::optional<Object>&)> RecordingStore::MaybeBroken(
    Mutation mutate) const {
  return [this, mutate](const std::optional<Object>& current) -> absl::StatusOr<Object> {
    ASSIGN_OR_RETURN(Object next, mutate(current));
    if (drop_a_sibling_ && next.siblings.size() >= 2) next.siblings.pop_back();
    return next;
  };
}

absl::StatusOr<Object> RecordingStore::Update(absl::string_view key, Mutation mutate) {
  ASSIGN_OR_RETURN(Object stored, base_->Update(key, MaybeBroken(mutate)));
  recorder_->Stored(stored);
  return stored;
}

std::vector<absl::StatusOr<Object>> RecordingStore::UpdateBatch(
    const std::vector<KeyUpdate>& updates) {
  std::vector<std::function<absl::StatusOr<Object>(const std::optional<Object>&)>> mutations;
  mutations.reserve(updates.size());  // the KeyUpdates below refer to them
  std::vector<KeyUpdate> wrapped;
  for (const KeyUpdate& u : updates) {
    mutations.push_back(MaybeBroken(u.mutate));
    wrapped.push_back(KeyUpdate{u.key, mutations.back()});
  }
  std::vector<absl::StatusOr<Object>> results = base_->UpdateBatch(wrapped);
  for (const absl::StatusOr<Object>& r : results) {
    if (r.ok()) recorder_->Stored(*r);
  }
  return results;
}

absl::StatusOr<Object> RecordingStore::UpdateHint(absl::string_view home, absl::string_view key,
                                                  const HintLimits& limits, absl::Time now,
                                                  Mutation mutate) {
  ASSIGN_OR_RETURN(Object stored, base_->UpdateHint(home, key, limits, now, mutate));
  recorder_->Stored(stored);
  return stored;
}

absl::StatusOr<Dot> RecordingStore::IssueDot() {
  ASSIGN_OR_RETURN(Dot dot, base_->IssueDot());
  recorder_->DotIssued(dot);
  return dot;
}

SimNode::SimNode(SimNodeOptions options, SimWorld* world, SimNetwork* network, Recorder* recorder)
    : options_(std::move(options)),
      world_(world),
      recorder_(recorder),
      transport_(options_.id, network) {}

SimNode::~SimNode() = default;

void SimNode::Start() {
  if (up()) return;
  transport_.Restart();
  ReplicaStoreOptions store_options{
      .node_id = options_.id,
      .sync_writes = options_.sync_writes,
      .dot_lease_block = 7,  // small, so restarts cross lease boundaries often
      .new_epoch = [this] { return static_cast<uint32_t>(world_->rng()()); }};
  base_store_ = *EngineReplicaStore::Open(&engine_, std::move(store_options));
  store_ = std::make_unique<RecordingStore>(base_store_.get(), recorder_, options_.broken_merge);
  node_ = *ReplicaNode::Create(ReplicaNodeOptions{.self = options_.id, .config = options_.config},
                               store_.get(), &transport_, world_->clock());
  world_->Trace(absl::StrCat(id(), " started (actor ", store_->actor(), ")"));
  ScheduleTick();
}

void SimNode::ScheduleTick() {
  const uint64_t life = incarnation_;
  world_->After(kTickInterval, [this, life] {
    if (!up() || incarnation_ != life) return;
    node_->Tick();
    ScheduleTick();
  });
}

void SimNode::Crash() {
  if (!up()) return;
  ++incarnation_;
  node_.reset();
  store_.reset();
  base_store_.reset();
  engine_.SimulatePowerLoss();
  world_->Trace(absl::StrCat(id(), " crashed"));
}

absl::StatusOr<std::optional<Object>> SimNode::ReadStored(const std::string& key) {
  ASSIGN_OR_RETURN(std::optional<std::string> bytes, engine_.Get(ColumnFamily::kData, key));
  if (!bytes) return std::optional<Object>();
  ASSIGN_OR_RETURN(Object object, DecodeObject(*bytes));
  return std::optional<Object>(std::move(object));
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

size_t SimNode::HintCount() {
  size_t count = 0;
  (void)engine_.Scan(ColumnFamily::kHints, "", "", [&](absl::string_view, absl::string_view) {
    ++count;
    return true;
  });
  return count;
}

}  // namespace quorumkv::sim
