#include "client/kv_client_internal.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "proto/grpc_status_codec.h"

namespace quorumkv {
namespace {

constexpr absl::string_view kQuorumInfoUrl = "type.googleapis.com/quorumkv.v1.QuorumInfo";
// A DEADLINE_EXCEEDED this close to the request's deadline is the
// request's running out of time.
constexpr absl::Duration kDeadlineSlack = absl::Milliseconds(5);

}  // namespace

absl::Status WithQuorum(const grpc::Status& status) {
  absl::Status result = FromGrpcStatus(status);
  if (std::optional<v1::QuorumInfo> quorum = QuorumFromGrpcStatus(status)) {
    result.SetPayload(kQuorumInfoUrl, absl::Cord(quorum->SerializeAsString()));
  }
  return result;
}

bool IsUnreachable(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAVAILABLE &&
         !QuorumFromGrpcStatus(status).has_value();
}

bool ShedAtAdmission(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
         !QuorumFromGrpcStatus(status).has_value();
}

bool NeverReachedCoordinator(const grpc::Status& status) {
  const std::string& m = status.error_message();
  return ShedAtAdmission(status) ||
         (IsUnreachable(status) && (m.find("failed to connect") != std::string::npos ||
                                    m.find("Connection refused") != std::string::npos ||
                                    m.find("node is starting") != std::string::npos));
}

bool NodeFailed(const grpc::Status& status, absl::Time deadline) {
  if (IsUnreachable(status)) return true;
  return status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED &&
         !QuorumFromGrpcStatus(status).has_value() && absl::Now() < deadline - kDeadlineSlack;
}

void MaybeApplied::OnFailure(const std::string& endpoint, const grpc::Status& status) {
  if (endpoint_.empty() && IsUnreachable(status) && !NeverReachedCoordinator(status)) {
    endpoint_ = endpoint;
  }
}

absl::Status MaybeApplied::Outcome(absl::Status failure) const {
  if (endpoint_.empty() || failure.code() == absl::StatusCode::kInvalidArgument ||
      failure.code() == absl::StatusCode::kFailedPrecondition) {
    return failure;
  }
  absl::Status unknown = absl::DeadlineExceededError(absl::StrCat(
      "outcome unknown: ", endpoint_, " may have applied the write before its connection dropped; ",
      failure.message(), " (repeat it with the same idempotency key)"));
  failure.ForEachPayload(
      [&](absl::string_view url, const absl::Cord& payload) { unknown.SetPayload(url, payload); });
  return unknown;
}

std::optional<v1::QuorumInfo> QuorumInfoOf(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kQuorumInfoUrl);
  if (!payload) return std::nullopt;
  v1::QuorumInfo info;
  if (!info.ParseFromString(std::string(*payload))) return std::nullopt;
  return info;
}

}  // namespace quorumkv
