#include "storage/logged_engine.h"

namespace quorumkv {

absl::StatusOr<std::optional<std::string>> LoggedEngine::Get(ColumnFamily cf,
                                                             absl::string_view key) {
  absl::StatusOr<std::optional<std::string>> value = base_->Get(cf, key);
  if (!value.ok()) Failed("read", value.status());
  return value;
}

absl::Status LoggedEngine::Write(const WriteBatch& batch, const WriteOptions& options) {
  absl::Status written = base_->Write(batch, options);
  if (!written.ok()) {
    Failed("write", written);
  } else if (disk_full_.open() || write_error_.open()) {
    const absl::Time now = clock_->Now();
    disk_full_.End(now);
    write_error_.End(now);
  }
  return written;
}

absl::Status LoggedEngine::Scan(ColumnFamily cf, absl::string_view start, absl::string_view end,
                                Visitor visit) {
  absl::Status scanned = base_->Scan(cf, start, end, visit);
  if (!scanned.ok()) Failed("scan", scanned);
  return scanned;
}

void LoggedEngine::EndIfQuiet() {
  if (corruption_.open()) corruption_.EndIfQuiet(clock_->Now());
}

void LoggedEngine::Failed(const char* op, const absl::Status& status) {
  const absl::Time now = clock_->Now();
  LogEpisode* episode = nullptr;
  switch (status.code()) {
    case absl::StatusCode::kResourceExhausted:
      episode = &disk_full_;
      break;
    case absl::StatusCode::kDataLoss:
      episode = &corruption_;
      break;
    default:
      if (absl::string_view(op) != "write") return;  // a failed read is its caller's to report
      episode = &write_error_;
  }
  episode->Occurred(now, {{"op", op}, {"error", status.message()}});
}

}  // namespace quorumkv
