#include "storage/repair_marks.h"

#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "replication/replica_store.h"
#include "replication/status_macros.h"

namespace quorumkv {
namespace {

constexpr absl::string_view kRepairPrefix = "repair/";

std::string RepairMarkKey(uint32_t partition) {
  return absl::StrFormat("%s%08u", kRepairPrefix, partition);
}

}  // namespace

absl::StatusOr<std::unique_ptr<RepairMarks>> RepairMarks::Open(Engine* engine) {
  std::set<uint32_t> marked;
  RETURN_IF_ERROR(engine->Scan(ColumnFamily::kMeta, kRepairPrefix,
                               absl::StrCat(kRepairPrefix, "\xff"),
                               [&](absl::string_view key, absl::string_view) {
                                 uint32_t p = 0;
                                 if (absl::SimpleAtoi(key.substr(kRepairPrefix.size()), &p)) {
                                   marked.insert(p);
                                 }
                                 return true;
                               }));
  return std::unique_ptr<RepairMarks>(new RepairMarks(engine, std::move(marked)));
}

void RepairMarks::Stage(uint32_t partition, WriteBatch* batch) {
  batch->Put(ColumnFamily::kMeta, RepairMarkKey(partition), "1");
}

void RepairMarks::Recorded(uint32_t partition) {
  absl::MutexLock lock(&mu_);
  marked_.insert(partition);
}

absl::Status RepairMarks::Mark(uint32_t partition) {
  WriteBatch batch;
  Stage(partition, &batch);
  // A mark is one idempotent key: two racing writes of it leave the same
  // state, so the write needs no lock; it is served once durable.
  RETURN_IF_ERROR(engine_->Write(batch, WriteOptions{.sync = true}));
  Recorded(partition);
  return absl::OkStatus();
}

bool RepairMarks::Marked(uint32_t partition) {
  absl::MutexLock lock(&mu_);
  return marked_.count(partition) > 0 || marked_.count(kEveryPartition) > 0;
}

std::vector<uint32_t> RepairMarks::List() {
  absl::MutexLock lock(&mu_);
  return std::vector<uint32_t>(marked_.begin(), marked_.end());
}

}  // namespace quorumkv
