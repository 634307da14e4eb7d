#include "replication/write_group.h"

#include <algorithm>

#include "replication/invariant.h"

namespace quorumkv {

void WriteGroup::Submit(std::string key, Mutate mutate, Done done) {
  {
    absl::MutexLock lock(&mu_);
    queue_.push_back(Pending{std::move(key), std::move(mutate), std::move(done)});
    if (writing_) return;
    writing_ = true;
  }
  if (!run_blocking_ || !run_blocking_([this] { WriteAll(); })) WriteAll();
}

void WriteGroup::WriteAll() {
  for (std::vector<Pending> group = NextGroup(); !group.empty(); group = NextGroup()) {
    Write(std::move(group));
  }
}

std::vector<WriteGroup::Pending> WriteGroup::NextGroup() {
  absl::MutexLock lock(&mu_);
  std::vector<Pending> group;
  const size_t n = std::min(kMaxGroup, queue_.size());
  for (size_t i = 0; i < n; ++i) {
    group.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  if (group.empty()) writing_ = false;
  return group;
}

void WriteGroup::Write(std::vector<Pending> group) {
  std::vector<ReplicaStore::KeyUpdate> updates;
  updates.reserve(group.size());
  for (const Pending& p : group) updates.push_back(ReplicaStore::KeyUpdate{p.key, p.mutate});
  std::vector<absl::StatusOr<Object>> results = store_->UpdateBatch(updates);
  const absl::Status answered = QKV_INVARIANT_STATUS(
      results.size() == group.size(), "the store answered a batch of updates with another count");
  if (!answered.ok()) results.assign(group.size(), answered);
  for (size_t i = 0; i < group.size(); ++i) group[i].done(std::move(results[i]));
}

}  // namespace quorumkv
