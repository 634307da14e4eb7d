// Wraps an Engine and logs its failures once per episode (log_episode.h),
// whether the disk or an injected fault caused them:
//   disk_full            writes refused RESOURCE_EXHAUSTED; ends with the
//                        next write that succeeds
//   storage_write_error  any other write failure; ends likewise
//   storage_corruption   DATA_LOSS from a read or a write; ends after a
//                        quiet minute (EndIfQuiet)
// Results pass through unchanged.
#ifndef QUORUMKV_STORAGE_LOGGED_ENGINE_H_
#define QUORUMKV_STORAGE_LOGGED_ENGINE_H_

#include "replication/clock.h"
#include "replication/log_episode.h"
#include "storage/engine.h"

namespace quorumkv {

// Thread-safe. Does not own `base` or `clock`.
class LoggedEngine : public Engine {
 public:
  LoggedEngine(Engine* base, Clock* clock) : base_(base), clock_(clock) {}

  absl::StatusOr<std::optional<std::string>> Get(ColumnFamily cf, absl::string_view key) override;
  absl::Status Write(const WriteBatch& batch, const WriteOptions& options) override;
  absl::Status Scan(ColumnFamily cf, absl::string_view start, absl::string_view end,
                    Visitor visit) override;
  RecoveryReport LastRecovery() const override { return base_->LastRecovery(); }
  // Ends the corruption episode once a quiet minute passed (kvnode's tick).
  void EndIfQuiet();

 private:
  // Logs `status` (not OK) of operation `op`.
  void Failed(const char* op, const absl::Status& status);

  Engine* const base_;
  Clock* const clock_;
  LogEpisode disk_full_{LogLevel::kError, "disk_full", absl::Minutes(1)};
  LogEpisode write_error_{LogLevel::kError, "storage_write_error", absl::Minutes(1)};
  LogEpisode corruption_{LogLevel::kError, "storage_corruption", absl::Minutes(1)};
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_LOGGED_ENGINE_H_
