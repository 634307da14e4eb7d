#include "replication/transport.h"

#include "absl/strings/cord.h"

namespace quorumkv {
namespace {

constexpr absl::string_view kNotSentUrl = "quorumkv/not-sent";

}  // namespace

absl::Status NotSentError(absl::string_view message) {
  absl::Status status = absl::UnavailableError(message);
  status.SetPayload(kNotSentUrl, absl::Cord("1"));
  return status;
}

bool IsNotSent(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable &&
         status.GetPayload(kNotSentUrl).has_value();
}

bool OutcomeUnknown(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kCancelled:
      return true;
    case absl::StatusCode::kUnavailable:
      return !IsNotSent(status);
    default:
      return false;
  }
}

}  // namespace quorumkv
