// A ReplicaStore that forwards every call to another: the base of the
// decorators that change only some calls (TreeKeepingStore, the
// simulator's RecordingStore). Thread-safe as the store it forwards to,
// which it does not own and which must outlive it.
#ifndef QUORUMKV_REPLICATION_FORWARDING_REPLICA_STORE_H_
#define QUORUMKV_REPLICATION_FORWARDING_REPLICA_STORE_H_

#include <set>
#include <string>
#include <vector>

#include "replication/replica_store.h"

namespace quorumkv {

class ForwardingReplicaStore : public ReplicaStore {
 public:
  explicit ForwardingReplicaStore(ReplicaStore* base) : base_(base) {}

  absl::StatusOr<std::optional<Object>> Read(absl::string_view key) override {
    return base_->Read(key);
  }
  absl::Status ForEachObject(ObjectVisitor visit) override { return base_->ForEachObject(visit); }
  absl::Status ForEachObjectInSegment(uint32_t segment, uint64_t hash_first, uint64_t hash_last,
                                      ObjectVisitor visit) override {
    return base_->ForEachObjectInSegment(segment, hash_first, hash_last, visit);
  }
  absl::StatusOr<Object> Update(absl::string_view key, Mutation mutate) override {
    return base_->Update(key, mutate);
  }
  std::vector<absl::StatusOr<Object>> UpdateBatch(const std::vector<KeyUpdate>& updates) override {
    return base_->UpdateBatch(updates);
  }
  absl::Status ForEachTombstoneBefore(uint64_t hlc_before, TombstoneVisitor visit) override {
    return base_->ForEachTombstoneBefore(hlc_before, visit);
  }
  absl::StatusOr<std::vector<bool>> PurgeTombstones(const std::vector<Purge>& purges) override {
    return base_->PurgeTombstones(purges);
  }
  absl::StatusOr<Dot> IssueDot() override { return base_->IssueDot(); }
  DotLease Lease() override { return base_->Lease(); }
  const std::string& actor() const override { return base_->actor(); }
  absl::Status MarkPartitionForRepair(uint32_t partition) override {
    return base_->MarkPartitionForRepair(partition);
  }
  absl::StatusOr<std::vector<uint32_t>> PartitionsMarkedForRepair() override {
    return base_->PartitionsMarkedForRepair();
  }
  bool MarkedForRepair(uint32_t partition) override { return base_->MarkedForRepair(partition); }
  bool HoldsData() override { return base_->HoldsData(); }
  bool EmptyStartUnsettled() override { return base_->EmptyStartUnsettled(); }
  absl::Status SettleEmptyStart() override { return base_->SettleEmptyStart(); }
  std::set<std::string> ActorsSeenHoldingData() override { return base_->ActorsSeenHoldingData(); }
  absl::Status RecordActorHoldsData(const std::string& actor) override {
    return base_->RecordActorHoldsData(actor);
  }

 protected:
  ReplicaStore* base() const { return base_; }

 private:
  ReplicaStore* const base_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_FORWARDING_REPLICA_STORE_H_
