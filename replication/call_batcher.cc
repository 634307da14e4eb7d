#include "replication/call_batcher.h"

namespace quorumkv {
std::optional<absl::StatusOr<pb::ReplicaReadResponse>> ReadCalls::Take(
    pb::ReplicaReadBatchResponse* reply, int i) {
  pb::ReplicaReadResult& r = *reply->mutable_results(i);
  if (r.not_run()) return std::nullopt;
  if (r.code() != 0) return absl::StatusOr<Reply>(StatusFromProto(r));
  return absl::StatusOr<Reply>(std::move(*r.mutable_response()));
}

std::optional<absl::StatusOr<pb::ReplicaWriteResponse>> WriteCalls::Take(
    pb::ReplicaWriteBatchResponse* reply, int i) {
  const pb::ReplicaWriteResult& r = reply->results(i);
  if (r.code() != 0) return absl::StatusOr<Reply>(StatusFromProto(r));
  return absl::StatusOr<Reply>(pb::ReplicaWriteResponse());
}

}  // namespace quorumkv
