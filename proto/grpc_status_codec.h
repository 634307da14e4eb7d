// How quorumkv's outcomes cross gRPC: the canonical code and message map
// one to one, and a coordinator's QuorumInfo rides in the binary error
// details, so a failed request still says which replicas answered.
#ifndef QUORUMKV_PROTO_GRPC_STATUS_CODEC_H_
#define QUORUMKV_PROTO_GRPC_STATUS_CODEC_H_

#include <grpcpp/support/status.h>

#include <optional>

#include "absl/status/status.h"
#include "proto/kv.pb.h"

namespace quorumkv {

grpc::Status ToGrpcStatus(const absl::Status& status, const v1::QuorumInfo* quorum = nullptr);
absl::Status FromGrpcStatus(const grpc::Status& status);
// The QuorumInfo in a failed call's details, if the coordinator sent one.
// Its absence tells a transport failure (never reached a coordinator) from
// a coordinator's outcome.
std::optional<v1::QuorumInfo> QuorumFromGrpcStatus(const grpc::Status& status);

}  // namespace quorumkv

#endif  // QUORUMKV_PROTO_GRPC_STATUS_CODEC_H_
