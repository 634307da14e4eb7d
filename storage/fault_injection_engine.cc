#include "storage/fault_injection_engine.h"

namespace quorumkv {

void FaultInjectionEngine::SetWriteError(absl::Status error) {
  absl::MutexLock lock(&mu_);
  write_error_ = std::move(error);
}

absl::Status FaultInjectionEngine::Write(const WriteBatch& batch, const WriteOptions& options) {
  {
    absl::MutexLock lock(&mu_);
    if (!write_error_.ok()) return write_error_;
  }
  return base_->Write(batch, options);
}

}  // namespace quorumkv
