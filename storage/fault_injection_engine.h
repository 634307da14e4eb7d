// Wraps an Engine and fails its writes on command, the way a full or
// failing disk would: reads keep working.
#ifndef QUORUMKV_STORAGE_FAULT_INJECTION_ENGINE_H_
#define QUORUMKV_STORAGE_FAULT_INJECTION_ENGINE_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "storage/engine.h"

namespace quorumkv {

// Thread-safe. Does not own `base`.
class FaultInjectionEngine : public Engine {
 public:
  explicit FaultInjectionEngine(Engine* base) : base_(base) {}

  // Every later Write fails with `error` (and writes nothing) until
  // ClearWriteError. E.g. absl::ResourceExhaustedError("disk full").
  void SetWriteError(absl::Status error);
  void ClearWriteError() { SetWriteError(absl::OkStatus()); }

  absl::StatusOr<std::optional<std::string>> Get(ColumnFamily cf, absl::string_view key) override {
    return base_->Get(cf, key);
  }
  absl::Status Write(const WriteBatch& batch, const WriteOptions& options) override;
  absl::Status Scan(ColumnFamily cf, absl::string_view start, absl::string_view end,
                    Visitor visit) override {
    return base_->Scan(cf, start, end, visit);
  }
  RecoveryReport LastRecovery() const override { return base_->LastRecovery(); }

 private:
  Engine* const base_;
  absl::Mutex mu_;
  absl::Status write_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_FAULT_INJECTION_ENGINE_H_
