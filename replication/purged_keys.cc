#include "replication/purged_keys.h"

#include "replication/merkle_tree.h"
#include "replication/ring.h"

namespace quorumkv {

void PurgedKeys::Add(const std::string& key, const Object& tombstone, absl::Time now) {
  absl::MutexLock lock(&mu_);
  by_key_[key] = Record{tombstone, ++adds_};
  order_.push_back(Added{adds_, now, key});
  ForgetExpired(now);
}

std::optional<Object> PurgedKeys::Find(absl::string_view key, absl::Time now) {
  absl::MutexLock lock(&mu_);
  ForgetExpired(now);
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return std::nullopt;
  return it->second.tombstone;
}

std::vector<std::pair<std::string, Object>> PurgedKeys::InSegment(uint32_t segment,
                                                                  uint64_t hash_first,
                                                                  uint64_t hash_last,
                                                                  absl::Time now) {
  absl::MutexLock lock(&mu_);
  ForgetExpired(now);
  std::vector<std::pair<std::string, Object>> found;
  for (const auto& [key, record] : by_key_) {
    const uint64_t hash = StableHash(key);
    if (MerkleTree::SegmentOf(key) == segment && hash >= hash_first && hash <= hash_last) {
      found.emplace_back(key, record.tombstone);
    }
  }
  return found;
}

size_t PurgedKeys::size() const {
  absl::MutexLock lock(&mu_);
  return by_key_.size();
}

void PurgedKeys::ForgetExpired(absl::Time now) {
  while (!order_.empty() && (order_.size() > kMaxRecords || order_.front().at + keep_for_ < now)) {
    auto it = by_key_.find(order_.front().key);
    if (it != by_key_.end() && it->second.added == order_.front().number) by_key_.erase(it);
    order_.pop_front();
  }
}

}  // namespace quorumkv
