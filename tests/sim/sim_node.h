// A simulated kvnode: the real ReplicaNode over the real EngineReplicaStore
// over a MemEngine that survives crashes (losing only unsynced writes), plus
// the recorder the invariant checkers read.
#ifndef QUORUMKV_TESTS_SIM_SIM_NODE_H_
#define QUORUMKV_TESTS_SIM_SIM_NODE_H_

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "proto/config.pb.h"
#include "replication/replica_node.h"
#include "storage/engine_replica_store.h"
#include "storage/mem_engine.h"
#include "tests/sim/sim_network.h"
#include "tests/sim/sim_world.h"

namespace quorumkv::sim {

// What the nodes did, seen from below the replication core: every dot
// issued (and the simulated operation it was issued for) and every dot that
// reached some replica's disk.
struct Recorder {
  int current_op = -1;  // the operation whose synchronous call is running
  std::map<int, Dot> dot_of_op;
  std::map<Dot, int> op_of_dot;
  std::set<Dot> stored;                          // dots that reached a replica
  std::map<std::string, uint64_t> last_counter;  // per actor
  std::vector<std::string> dot_violations;       // invariant 4

  void DotIssued(const Dot& dot);
  void Stored(const Object& object);
};

// Decorates the node's real store: records into the Recorder, and can be
// told to drop a sibling on every write that holds two or more (a deliberately
// broken merge, to prove the checkers catch a lost write).
class RecordingStore : public ReplicaStore {
 public:
  RecordingStore(ReplicaStore* base, Recorder* recorder, bool drop_a_sibling)
      : base_(base), recorder_(recorder), drop_a_sibling_(drop_a_sibling) {}

  absl::StatusOr<std::optional<Object>> Read(absl::string_view key) override {
    return base_->Read(key);
  }
  absl::StatusOr<Object> Update(absl::string_view key, Mutation mutate) override;
  std::vector<absl::StatusOr<Object>> UpdateBatch(const std::vector<KeyUpdate>& updates) override;
  absl::StatusOr<Dot> IssueDot() override;
  const std::string& actor() const override { return base_->actor(); }

  absl::StatusOr<Object> UpdateHint(absl::string_view home, absl::string_view key,
                                    const HintLimits& limits, absl::Time now,
                                    Mutation mutate) override;
  absl::StatusOr<std::optional<Object>> ReadHint(absl::string_view home,
                                                 absl::string_view key) override {
    return base_->ReadHint(home, key);
  }
  absl::StatusOr<std::vector<std::pair<std::string, Object>>> ReadHintsOfKey(
      absl::string_view key) override {
    return base_->ReadHintsOfKey(key);
  }
  absl::StatusOr<bool> DeleteHintIfUnchanged(absl::string_view home, absl::string_view key,
                                             const Object& delivered) override {
    return base_->DeleteHintIfUnchanged(home, key, delivered);
  }
  absl::StatusOr<bool> DropExpiredHint(absl::string_view home, absl::string_view key,
                                       absl::Time written_before, uint32_t partition) override {
    return base_->DropExpiredHint(home, key, written_before, partition);
  }
  std::vector<HintInfo> ListHints(absl::string_view home, size_t limit) override {
    return base_->ListHints(home, limit);
  }
  std::vector<HintInfo> ListExpiredHints(absl::string_view home, absl::Time written_before,
                                         size_t limit) override {
    return base_->ListExpiredHints(home, written_before, limit);
  }
  std::vector<HintSummary> SummarizeHints() override { return base_->SummarizeHints(); }
  absl::Status MarkPartitionForRepair(uint32_t partition) override {
    return base_->MarkPartitionForRepair(partition);
  }
  absl::StatusOr<std::vector<uint32_t>> PartitionsMarkedForRepair() override {
    return base_->PartitionsMarkedForRepair();
  }
  bool MarkedForRepair(uint32_t partition) override { return base_->MarkedForRepair(partition); }
  bool HoldsData() override { return base_->HoldsData(); }
  bool OpenedEmpty() const override { return base_->OpenedEmpty(); }
  std::set<std::string> PeersSeenHoldingData() override { return base_->PeersSeenHoldingData(); }
  absl::Status RecordPeerHoldsData(const std::string& peer) override {
    return base_->RecordPeerHoldsData(peer);
  }

 private:
  // `mutate`, then (with drop_a_sibling) the deliberate loss of a sibling.
  std::function<absl::StatusOr<Object>(const std::optional<Object>&)> MaybeBroken(
      Mutation mutate) const;

  ReplicaStore* const base_;
  Recorder* const recorder_;
  const bool drop_a_sibling_;
};

struct SimNodeOptions {
  std::string id;
  pb::ClusterConfig config;
  bool sync_writes = true;
  bool broken_merge = false;
};

class SimNode {
 public:
  SimNode(SimNodeOptions options, SimWorld* world, SimNetwork* network, Recorder* recorder);
  ~SimNode();

  // Opens the store on the node's engine and builds its ReplicaNode.
  void Start();
  // The process dies: its ReplicaNode and in-flight work are gone, and a
  // power loss drops what was not synced. The engine (the disk) stays.
  void Crash();

  const std::string& id() const { return options_.id; }
  bool up() const { return node_ != nullptr; }
  // Bumped by every Crash: messages of a former life are discarded.
  uint64_t incarnation() const { return incarnation_; }
  // REQUIRES: up().
  ReplicaNode& replica() { return *node_; }
  // What the node's disk holds, read directly from its engine, up or not
  // (for checkers): its replica of `key`, and the hints of `key` it keeps,
  // by home node.
  absl::StatusOr<std::optional<Object>> ReadStored(const std::string& key);
  absl::StatusOr<std::map<std::string, Object>> ReadHints(const std::string& key);
  // How many hints the node's disk holds.
  size_t HintCount();

 private:
  // Runs the node's background work (pings, handoff) every kTickInterval
  // of simulated time while this incarnation lives.
  static constexpr absl::Duration kTickInterval = absl::Milliseconds(20);
  void ScheduleTick();

  const SimNodeOptions options_;
  SimWorld* const world_;
  Recorder* const recorder_;
  MemEngine engine_;
  SimTransport transport_;
  std::unique_ptr<EngineReplicaStore> base_store_;
  std::unique_ptr<RecordingStore> store_;
  std::unique_ptr<ReplicaNode> node_;
  uint64_t incarnation_ = 0;
};

}  // namespace quorumkv::sim

#endif  // QUORUMKV_TESTS_SIM_SIM_NODE_H_
