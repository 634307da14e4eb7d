#include "storage/mem_engine.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

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
  // A write after a recovery starts a new history: there is nothing more to
  // tell of the last one.
  recovery_ = RecoveryReport{RecoveryReport::Verdict::kComplete, ""};
  Apply(batch, current_);
  unsynced_.push_back(batch);
  if (options.sync) Sync();  // a sync flushes the log up to and including this batch
  return absl::OkStatus();
}

void MemEngine::Sync() {
  for (WriteBatch& pending : unsynced_) {
    Apply(pending, durable_);
    log_tail_.push_back(std::move(pending));
    if (log_tail_.size() > kLogTailBatches) {
      Apply(log_tail_.front(), settled_);
      log_tail_.pop_front();
    }
  }
  unsynced_.clear();
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

RecoveryReport MemEngine::LastRecovery() const {
  absl::MutexLock lock(&mu_);
  return recovery_;
}

void MemEngine::SimulatePowerLoss() {
  absl::MutexLock lock(&mu_);
  current_ = durable_;
  unsynced_.clear();
  recovery_ = RecoveryReport{RecoveryReport::Verdict::kUnknown,
                             "the machine restarted: no record of what was acknowledged"};
}

size_t MemEngine::SimulateLostLogTail(size_t batches) {
  absl::MutexLock lock(&mu_);
  const size_t lost = std::min(batches, log_tail_.size());
  log_tail_.resize(log_tail_.size() - lost);
  durable_ = settled_;
  for (const WriteBatch& batch : log_tail_) Apply(batch, durable_);
  current_ = durable_;
  unsynced_.clear();
  recovery_ = RecoveryReport{RecoveryReport::Verdict::kLost,
                             absl::StrCat("the log lost its last ", lost, " synced writes")};
  return lost;
}

void MemEngine::Wipe() {
  absl::MutexLock lock(&mu_);
  current_ = durable_ = settled_ = Tables();
  log_tail_.clear();
  unsynced_.clear();
  recovery_ = RecoveryReport{RecoveryReport::Verdict::kComplete, ""};
}

std::optional<std::string> MemEngine::GetDurable(ColumnFamily cf, absl::string_view key) const {
  absl::MutexLock lock(&mu_);
  const Table& table = durable_[static_cast<int>(cf)];
  auto it = table.find(key);
  if (it == table.end()) return std::nullopt;
  return it->second;
}

size_t MemEngine::unsynced_batches() const {
  absl::MutexLock lock(&mu_);
  return unsynced_.size();
}

}  // namespace quorumkv
