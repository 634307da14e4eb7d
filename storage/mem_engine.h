// An in-memory Engine that models durability and the ways a disk loses it:
// writes made with sync=false are lost by SimulatePowerLoss() unless a later
// synced write flushed them, as with a write-ahead log in the OS's page
// cache; SimulateLostLogTail() takes back synced writes, as a disk that
// lies about fsync would; Wipe() is a new disk. Destroying the stores on it
// without CloseCleanly is a crash of the process, which loses nothing.
//
// LastRecovery() reports what RocksDbEngine would after each of these:
// kComplete after a crash of the process (or none), kUnknown after a power
// loss (the machine restarted: its record of what it acknowledged is gone),
// kLost after a lost log tail; until the next write.
#ifndef QUORUMKV_STORAGE_MEM_ENGINE_H_
#define QUORUMKV_STORAGE_MEM_ENGINE_H_

#include <array>
#include <deque>
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
  RecoveryReport LastRecovery() const override;

  // A machine crash: every write not yet synced is gone.
  void SimulatePowerLoss();
  // The last `batches` synced writes are gone too (at most the last
  // kLogTailBatches of them), with every unsynced one: the log lost its
  // tail. Returns how many synced writes were taken back.
  size_t SimulateLostLogTail(size_t batches);
  // Everything is gone: a new, empty disk.
  void Wipe();
  // Writes made since the last sync.
  size_t unsynced_batches() const;
  // What a power loss now would leave of `key` (for tests and checkers).
  std::optional<std::string> GetDurable(ColumnFamily cf, absl::string_view key) const;

  // How many of the last synced writes SimulateLostLogTail can take back.
  static constexpr size_t kLogTailBatches = 64;

 private:
  using Table = std::map<std::string, std::string, std::less<>>;
  using Tables = std::array<Table, kColumnFamilyCount>;
  static void Apply(const WriteBatch& batch, Tables& tables);
  // durable_ is settled_ plus log_tail_, in order.
  void Sync() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  Tables current_ ABSL_GUARDED_BY(mu_);
  Tables durable_ ABSL_GUARDED_BY(mu_);
  Tables settled_ ABSL_GUARDED_BY(mu_);
  std::deque<WriteBatch> log_tail_ ABSL_GUARDED_BY(mu_);  // synced, not settled
  std::vector<WriteBatch> unsynced_ ABSL_GUARDED_BY(mu_);
  RecoveryReport recovery_ ABSL_GUARDED_BY(mu_) = {RecoveryReport::Verdict::kComplete, ""};
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_MEM_ENGINE_H_
