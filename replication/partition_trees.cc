#include "replication/partition_trees.h"

#include <string>

namespace quorumkv {

absl::Status PartitionTrees::Build(ReplicaStore& store) {
  std::map<uint32_t, MerkleTree> built;
  absl::Status status = store.ForEachObject([&](absl::string_view key, const Object& object) {
    built[ring_->PartitionOf(key)].Update(key, 0, MerkleTree::EntryHash(key, object));
  });
  if (!status.ok()) return status;
  absl::MutexLock lock(&mu_);
  trees_ = std::move(built);
  return absl::OkStatus();
}

void PartitionTrees::Apply(absl::string_view key, uint64_t before, uint64_t after) {
  if (before == after) return;
  const uint32_t partition = ring_->PartitionOf(key);
  absl::MutexLock lock(&mu_);
  trees_[partition].Update(key, before, after);
}

MerkleTree PartitionTrees::Tree(uint32_t partition) const {
  absl::MutexLock lock(&mu_);
  auto it = trees_.find(partition);
  return it == trees_.end() ? MerkleTree() : it->second;
}

uint64_t PartitionTrees::Root(uint32_t partition) const {
  absl::MutexLock lock(&mu_);
  auto it = trees_.find(partition);
  return it == trees_.end() ? 0 : it->second.root();
}

absl::StatusOr<Object> TreeKeepingStore::Update(absl::string_view key, Mutation mutate) {
  return UpdateBatch({KeyUpdate{key, mutate}})[0];
}

std::vector<absl::StatusOr<Object>> TreeKeepingStore::UpdateBatch(
    const std::vector<KeyUpdate>& updates) {
  // The entry hash each update found, recorded as its mutation runs (a key
  // updated twice in the batch records the state each update saw).
  std::vector<uint64_t> before(updates.size(), 0);
  std::vector<std::function<absl::StatusOr<Object>(const std::optional<Object>&)>> recorders;
  recorders.reserve(updates.size());
  std::vector<KeyUpdate> recorded;
  recorded.reserve(updates.size());
  for (size_t i = 0; i < updates.size(); ++i) {
    recorders.push_back([&, i](const std::optional<Object>& current) {
      before[i] = current ? MerkleTree::EntryHash(updates[i].key, *current) : 0;
      return updates[i].mutate(current);
    });
    recorded.push_back(KeyUpdate{updates[i].key, recorders.back()});
  }
  const uint64_t update = Begin();
  std::vector<absl::StatusOr<Object>> results = base()->UpdateBatch(recorded);
  for (size_t i = 0; i < results.size(); ++i) {
    if (!results[i].ok()) continue;  // nothing of it was stored
    trees_->Apply(updates[i].key, before[i], MerkleTree::EntryHash(updates[i].key, *results[i]));
  }
  End(update);
  return results;
}

absl::StatusOr<std::vector<bool>> TreeKeepingStore::PurgeTombstones(
    const std::vector<Purge>& purges) {
  const uint64_t update = Begin();
  absl::StatusOr<std::vector<bool>> purged = base()->PurgeTombstones(purges);
  if (purged.ok()) {
    for (size_t i = 0; i < purges.size(); ++i) {
      if ((*purged)[i]) {
        trees_->Apply(purges[i].key, MerkleTree::EntryHash(purges[i].key, purges[i].object), 0);
      }
    }
  }
  End(update);
  return purged;
}

uint64_t TreeKeepingStore::Begin() {
  absl::MutexLock lock(&seq_mu_);
  in_flight_.insert(++began_);
  return began_;
}

void TreeKeepingStore::End(uint64_t update) {
  absl::MutexLock lock(&seq_mu_);
  in_flight_.erase(update);
}

uint64_t TreeKeepingStore::Began() const {
  absl::MutexLock lock(&seq_mu_);
  return began_;
}

uint64_t TreeKeepingStore::AppliedThrough() const {
  absl::MutexLock lock(&seq_mu_);
  return in_flight_.empty() ? began_ : *in_flight_.begin() - 1;
}

}  // namespace quorumkv
