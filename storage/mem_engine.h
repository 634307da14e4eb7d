// An in-memory Engine that models durability: writes made with sync=false
// are lost by SimulatePowerLoss() unless a later synced write flushed them,
// as with a write-ahead log in the OS's page cache.
#ifndef QUORUMKV_STORAGE_MEM_ENGINE_H_
#define QUORUMKV_STORAGE_MEM_ENGINE_H_

#include <array>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "storage/engine.h"

namespace quorumkv {

// Thread-safe.
class MemEngine : public Engine {
 public:
  absl::StatusOr<std::optional<std::string>> Get(ColumnFamily cf, absl::string_view key) override;
  absl::Status Write(const WriteBatch& batch, const WriteOptions& options) override;
  absl::Status Scan(ColumnFamily cf, absl::string_view start, absl::string_view end,
                    Visitor visit) override;

  // A machine crash: every write not yet synced is gone. (A crash of only
  // the process loses nothing: there is nothing to call for it.)
  void SimulatePowerLoss();
  // Writes made since the last sync.
  size_t unsynced_batches() const;

 private:
  using Table = std::map<std::string, std::string, std::less<>>;
  using Tables = std::array<Table, kColumnFamilyCount>;
  static void Apply(const WriteBatch& batch, Tables& tables);

  mutable absl::Mutex mu_;
  Tables current_ ABSL_GUARDED_BY(mu_);
  Tables durable_ ABSL_GUARDED_BY(mu_);
  std::vector<WriteBatch> unsynced_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_MEM_ENGINE_H_
