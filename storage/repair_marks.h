// The partitions a node has marked for repair (ReplicaStore::
// MarkPartitionForRepair): the meta keys "repair/<partition>", read once
// when the store opens and served from memory after.
#ifndef QUORUMKV_STORAGE_REPAIR_MARKS_H_
#define QUORUMKV_STORAGE_REPAIR_MARKS_H_

#include <cstdint>
#include <memory>
#include <set>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "storage/engine.h"

namespace quorumkv {

// Thread-safe. Does not own `engine`, which must outlive it.
class RepairMarks {
 public:
  static absl::StatusOr<std::unique_ptr<RepairMarks>> Open(Engine* engine);

  // Adds the mark of `partition` to `batch`, for a caller that writes it
  // (synced) together with something else; Recorded after the write.
  static void Stage(uint32_t partition, WriteBatch* batch);
  // A mark staged with Stage is durable: served from now on.
  void Recorded(uint32_t partition);

  // Marks `partition` in a synced write of its own.
  absl::Status Mark(uint32_t partition);
  // Whether `partition`, or kEveryPartition, is marked.
  bool Marked(uint32_t partition);
  std::vector<uint32_t> List();

 private:
  RepairMarks(Engine* engine, std::set<uint32_t> marked)
      : engine_(engine), marked_(std::move(marked)) {}

  Engine* const engine_;
  absl::Mutex mu_;
  std::set<uint32_t> marked_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_REPAIR_MARKS_H_
