#include "storage/mem_engine.h"

namespace quorumkv {

void MemEngine::Apply(const WriteBatch& batch, Tables& tables) {
  for (const WriteBatch::Op& op : batch.ops()) {
    Table& table = tables[static_cast<int>(op.cf)];
    if (op.is_delete) {
      table.erase(op.key);
    } else {
      table[op.key] = op.value;
    }
  }
}

absl::StatusOr<std::optional<std::string>> MemEngine::Get(ColumnFamily cf, absl::string_view key) {
  absl::MutexLock lock(&mu_);
  const Table& table = current_[static_cast<int>(cf)];
  auto it = table.find(key);
  if (it == table.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

absl::Status MemEngine::Write(const WriteBatch& batch, const WriteOptions& options) {
  absl::MutexLock lock(&mu_);
  Apply(batch, current_);
  if (!options.sync) {
    unsynced_.push_back(batch);
    return absl::OkStatus();
  }
  // A sync flushes the log up to and including this batch.
  for (const WriteBatch& pending : unsynced_) Apply(pending, durable_);
  unsynced_.clear();
  Apply(batch, durable_);
  return absl::OkStatus();
}

absl::Status MemEngine::Scan(ColumnFamily cf, absl::string_view start, absl::string_view end,
                             Visitor visit) {
  // Copy the range first so `visit` may call back into the engine.
  std::vector<std::pair<std::string, std::string>> entries;
  {
    absl::MutexLock lock(&mu_);
    const Table& table = current_[static_cast<int>(cf)];
    for (auto it = table.lower_bound(start); it != table.end(); ++it) {
      if (!end.empty() && it->first >= end) break;
      entries.emplace_back(*it);
    }
  }
  for (const auto& [key, value] : entries) {
    if (!visit(key, value)) break;
  }
  return absl::OkStatus();
}

void MemEngine::SimulatePowerLoss() {
  absl::MutexLock lock(&mu_);
  current_ = durable_;
  unsynced_.clear();
}

size_t MemEngine::unsynced_batches() const {
  absl::MutexLock lock(&mu_);
  return unsynced_.size();
}

}  // namespace quorumkv
