#include "proto/grpc_status_codec.h"

#include <string>

namespace quorumkv {

grpc::Status ToGrpcStatus(const absl::Status& status, const v1::QuorumInfo* quorum) {
  if (status.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(status.code());
  std::string message(status.message());
  if (quorum == nullptr) return grpc::Status(code, message);
  return grpc::Status(code, message, quorum->SerializeAsString());
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

std::optional<v1::QuorumInfo> QuorumFromGrpcStatus(const grpc::Status& status) {
  if (status.ok() || status.error_details().empty()) return std::nullopt;
  v1::QuorumInfo info;
  if (!info.ParseFromString(status.error_details())) return std::nullopt;
  return info;
}

}  // namespace quorumkv
