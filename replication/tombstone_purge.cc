#include "replication/tombstone_purge.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "replication/hlc.h"
#include "replication/logging.h"

namespace quorumkv {

absl::Status ListTombstonesToPurge(NodeContext& node, absl::Time deleted_before,
                                   std::map<uint32_t, std::vector<ReplicaStore::Purge>*>& purges) {
  const int64_t before_ms = absl::ToUnixMillis(deleted_before);
  if (before_ms <= 0 || purges.empty()) return absl::OkStatus();
  size_t listed = 0;
  absl::Status status = node.store->ForEachTombstoneBefore(
      MakeHlc(static_cast<uint64_t>(before_ms), 0),
      [&](absl::string_view key, const Object& object) {
        auto it = purges.find(node.ring.PartitionOf(key));
        if (it != purges.end() && it->second->size() < kMaxPurgesPerPartition) {
          it->second->push_back(ReplicaStore::Purge{std::string(key), object});
          ++listed;
        }
        return listed < kMaxPurgesPerRound;
      });
  if (!status.ok()) {
    for (auto& [partition, list] : purges) list->clear();
  }
  return status;
}

uint64_t PurgeUnchangedTombstones(NodeContext& node, uint32_t partition,
                                  const std::vector<ReplicaStore::Purge>& purges, absl::Time now) {
  uint64_t count = 0;
  for (size_t from = 0; from < purges.size(); from += kPurgeBatch) {
    const std::vector<ReplicaStore::Purge> batch(
        purges.begin() + from, purges.begin() + std::min(purges.size(), from + kPurgeBatch));
    absl::StatusOr<std::vector<bool>> purged = node.store->PurgeTombstones(batch);
    if (!purged.ok()) {
      node.store_error_log.Occurred(now, {{"op", "purge tombstones"},
                                          {"partition", partition},
                                          {"error", purged.status().message()}});
      break;
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      if (!(*purged)[i]) continue;  // written since the round started
      node.purged_keys.Add(batch[i].key, batch[i].object, now);
      ++count;
    }
  }
  return count;
}

}  // namespace quorumkv
