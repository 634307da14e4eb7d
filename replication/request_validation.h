// Checks of client requests against the limits of the cluster config. Every
// failure is INVALID_ARGUMENT naming the value and the limit; a request that
// fails them writes nothing.
#ifndef QUORUMKV_REPLICATION_REQUEST_VALIDATION_H_
#define QUORUMKV_REPLICATION_REQUEST_VALIDATION_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "proto/config.pb.h"
#include "proto/kv.pb.h"

namespace quorumkv {

namespace pb = ::quorumkv::v1;

absl::Status ValidateKey(const pb::ClusterConfig& config, absl::string_view key);
absl::Status ValidatePutRequest(const pb::ClusterConfig& config, const pb::PutRequest& request);
absl::Status ValidateGetRequest(const pb::ClusterConfig& config, const pb::GetRequest& request);

// R or W of a request: the request's own, or else the cluster's default R,
// and for W the larger of default W and the key's min_w.
inline uint32_t EffectiveR(const pb::ClusterConfig& c, const pb::GetRequest& r) {
  return r.r() ? r.r() : c.default_r();
}
uint32_t EffectiveW(const pb::ClusterConfig& c, const pb::PutRequest& r);

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_REQUEST_VALIDATION_H_
