#include "tests/sim/sim_node.h"

#include "absl/strings/str_cat.h"
#include "replication/status_macros.h"

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

absl::StatusOr<Object> RecordingStore::Update(absl::string_view key, Mutation mutate) {
  auto broken = [&](const std::optional<Object>& current) -> absl::StatusOr<Object> {
    ASSIGN_OR_RETURN(Object next, mutate(current));
    if (drop_a_sibling_ && next.siblings.size() >= 2) next.siblings.pop_back();
    return next;
  };
  ASSIGN_OR_RETURN(Object stored, base_->Update(key, broken));
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
  if (store_) return store_->Read(key);
  // Down: read the disk through a temporary store.
  ASSIGN_OR_RETURN(auto store, EngineReplicaStore::Open(&engine_, {.node_id = options_.id}));
  return store->Read(key);
}

}  // namespace quorumkv::sim
