// A simulated kvnode: the real ReplicaNode over the real EngineReplicaStore
// over a MemEngine (its disk), on a clock that may run ahead or behind, and
// the ways it can fail: a crash of its process, a power loss, a log that
// loses its tail, a wiped disk.
#ifndef QUORUMKV_TESTS_SIM_SIM_NODE_H_
#define QUORUMKV_TESTS_SIM_SIM_NODE_H_

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "proto/config.pb.h"
#include "replication/forwarding_replica_store.h"
#include "replication/replica_node.h"
#include "storage/engine_replica_store.h"
#include "storage/mem_engine.h"
#include "tests/sim/mutation.h"
#include "tests/sim/recorder.h"
#include "tests/sim/sim_network.h"
#include "tests/sim/sim_world.h"

namespace quorumkv::sim {

// Decorates a node's real replicas: records into the Recorder, and, under
// some mutations, misbehaves on purpose (mutation.h).
class RecordingStore : public ForwardingReplicaStore {
 public:
  // `mutation`: the mutation of the run; `mutated`: whether the ones that
  // affect one node (n1) apply to this one.
  RecordingStore(ReplicaStore* base, Recorder* recorder, std::string node, sim::Mutation mutation,
                 bool mutated)
      : ForwardingReplicaStore(base),
        recorder_(recorder),
        node_(std::move(node)),
        mutation_(mutation),
        mutated_(mutated) {}

  absl::StatusOr<Object> Update(absl::string_view key, Mutation mutate) override;
  std::vector<absl::StatusOr<Object>> UpdateBatch(const std::vector<KeyUpdate>& updates) override;
  absl::StatusOr<Dot> IssueDot() override;
  absl::StatusOr<std::vector<bool>> PurgeTombstones(const std::vector<Purge>& purges) override;

 private:
  using OwnedMutation = std::function<absl::StatusOr<Object>(const std::optional<Object>&)>;
  // `mutate`, then whatever this node's mutation does to replica writes.
  OwnedMutation Mutated(ReplicaStore::Mutation mutate) const;
  bool Is(sim::Mutation m) const { return mutation_ == m && mutated_; }

  Recorder* const recorder_;
  const std::string node_;
  const sim::Mutation mutation_;
  const bool mutated_;
  uint64_t dots_issued_ = 0;
  uint64_t updates_seen_ = 0;
};

// Decorates a node's real hints, as RecordingStore its replicas; the
// hints' mutations apply to every node.
class RecordingHints : public Hints {
 public:
  RecordingHints(Hints* base, Recorder* recorder, std::string node, sim::Mutation mutation)
      : base_(base), recorder_(recorder), node_(std::move(node)), mutation_(mutation) {}

  absl::StatusOr<Object> Update(absl::string_view home, absl::string_view key,
                                const HintLimits& limits, absl::Time now, Mutation mutate) override;
  absl::StatusOr<std::optional<Object>> Read(absl::string_view home,
                                             absl::string_view key) override {
    return base_->Read(home, key);
  }
  std::optional<HintInfo> Info(absl::string_view home, absl::string_view key) override {
    return base_->Info(home, key);
  }
  absl::StatusOr<std::vector<std::pair<std::string, Object>>> ReadAllHomes(
      absl::string_view key) override;
  absl::StatusOr<bool> DeleteIfUnchanged(absl::string_view home, absl::string_view key,
                                         const Object& delivered) override;
  absl::StatusOr<bool> DropExpired(absl::string_view home, absl::string_view key,
                                   absl::Time written_before, uint32_t partition) override;
  std::vector<HintInfo> List(absl::string_view home, size_t limit) override {
    return base_->List(home, limit);
  }
  std::vector<HintInfo> ListWrittenBefore(absl::string_view home, absl::Time written_before,
                                          size_t limit) override {
    return base_->ListWrittenBefore(home, written_before, limit);
  }
  std::vector<HintSummary> Summarize() override { return base_->Summarize(); }

 private:
  Hints* const base_;
  Recorder* const recorder_;
  const std::string node_;
  const sim::Mutation mutation_;
};

struct SimNodeOptions {
  std::string id;
  pb::ClusterConfig config;  // sync_writes applies to the store
  absl::Duration skew;       // the node's clock runs this far ahead of the world's
  sim::Mutation mutation = sim::Mutation::kNone;
};

// The world's clock, shifted.
class SkewedClock : public Clock {
 public:
  SkewedClock(Clock* base, absl::Duration skew) : base_(base), skew_(skew) {}
  absl::Time Now() override { return base_->Now() + skew_; }
  absl::Time Steady() override { return base_->Steady(); }

 private:
  Clock* const base_;
  const absl::Duration skew_;
};

class SimNode {
 public:
  SimNode(SimNodeOptions options, SimWorld* world, SimNetwork* network, Recorder* recorder);
  ~SimNode();

  // Opens the store on the node's engine and builds its ReplicaNode.
  void Start();
  // The process dies: its ReplicaNode and in-flight work are gone. The disk
  // keeps everything (the OS had every write, synced or not).
  void Crash();
  // The machine loses power: the process dies, and what was not synced is
  // gone.
  void PowerLoss();
  // The process dies and the disk loses the last `batches` synced writes
  // of its log (a disk that lied about fsync). Returns how many it lost.
  size_t LoseLogTail(size_t batches);
  // The process dies and the disk is replaced by an empty one.
  void Wipe();

  const std::string& id() const { return options_.id; }
  sim::Mutation mutation() const { return options_.mutation; }
  bool up() const { return node_ != nullptr; }
  // Bumped by every crash: messages of a former life are discarded.
  uint64_t incarnation() const { return incarnation_; }
  Clock* clock() { return &clock_; }
  absl::Duration skew() const { return options_.skew; }
  // REQUIRES: up().
  ReplicaNode& replica() { return *node_; }
  // The store the node writes through (below its tree keeping).
  ReplicaStore& store() { return *store_; }
  // What the node's disk holds, read directly from its engine, up or not
  // (for checkers): its replica of `key`, its durable replica of `key` (what
  // a power loss now would leave), the hints of `key` it keeps by home
  // node, whether it holds any version of `key` at all, and how many hints.
  absl::StatusOr<std::optional<Object>> ReadStored(const std::string& key);
  VersionVector DurableContext(const std::string& key);
  absl::StatusOr<std::map<std::string, Object>> ReadHints(const std::string& key);
  bool HoldsVersion(const std::string& key);
  size_t HintCount();

 private:
  // Runs the node's background work (pings, handoff) every kTickInterval
  // of simulated time while this incarnation lives.
  static constexpr absl::Duration kTickInterval = absl::Milliseconds(20);
  void ScheduleTick();
  // Runs `lose`, which takes writes off the disk, and records what it took:
  // every copy of a write (LoseStoredCopies), and the count of expired
  // hints the disk now holds.
  void LoseCopies(const std::function<void()>& lose);
  void LoseStoredCopies(const std::function<void()>& lose);
  uint64_t ExpiredCountOnDisk();

  const SimNodeOptions options_;
  SimWorld* const world_;
  Recorder* const recorder_;
  SkewedClock clock_;
  MemEngine engine_;
  SimTransport transport_;
  std::unique_ptr<EngineReplicaStore> base_store_;
  std::unique_ptr<RecordingStore> store_;
  std::unique_ptr<RecordingHints> hints_;
  std::unique_ptr<ReplicaNode> node_;
  uint64_t incarnation_ = 0;
};

}  // namespace quorumkv::sim

#endif  // QUORUMKV_TESTS_SIM_SIM_NODE_H_
