#include "replication/request_validation.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "replication/cluster_config.h"
#include "replication/object_codec.h"
#include "replication/quorum.h"
#include "replication/status_macros.h"

namespace quorumkv {

absl::Status ValidateKey(const pb::ClusterConfig& config, absl::string_view key) {
  if (key.empty()) return absl::InvalidArgumentError("key is empty (keys are 1..max_key_bytes)");
  if (key.size() > config.max_key_bytes()) {
    return absl::InvalidArgumentError(
        absl::StrCat("key is ", key.size(), " bytes, over max_key_bytes=", config.max_key_bytes()));
  }
  return absl::OkStatus();
}

absl::Status ValidatePutRequest(const pb::ClusterConfig& config, const pb::PutRequest& request) {
  RETURN_IF_ERROR(ValidateKey(config, request.key()));
  if (request.value().size() > config.max_value_bytes()) {
    return absl::InvalidArgumentError(
        absl::StrCat("value is ", request.value().size(),
                     " bytes, over max_value_bytes=", config.max_value_bytes()));
  }
  if (request.tombstone() && !request.value().empty()) {
    return absl::InvalidArgumentError("a delete carries no value");
  }
  if (request.idempotency_key().size() > kMaxIdempotencyKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("idempotency key is ", request.idempotency_key().size(),
                     " bytes, over the limit of ", kMaxIdempotencyKeyBytes));
  }
  const uint32_t w = EffectiveW(config, request);
  RETURN_IF_ERROR(ValidateQuorumSize("W", w, config.replication_factor()));
  if (const uint32_t min_w = MinWFor(config, request.key()); w < min_w) {
    const absl::string_view ns = NamespaceOf(request.key());
    return absl::InvalidArgumentError(absl::StrCat(
        "W=", w, " is below min_w=", min_w, " of ",
        ns.empty() ? std::string("the default namespace") : absl::StrCat("namespace '", ns, "'"),
        " (every write of it needs ", min_w, " home acks)"));
  }
  return absl::OkStatus();
}

uint32_t EffectiveW(const pb::ClusterConfig& c, const pb::PutRequest& r) {
  return r.w() ? r.w() : std::max(c.default_w(), MinWFor(c, r.key()));
}

absl::Status ValidateGetRequest(const pb::ClusterConfig& config, const pb::GetRequest& request) {
  RETURN_IF_ERROR(ValidateKey(config, request.key()));
  return ValidateQuorumSize("R", EffectiveR(config, request), config.replication_factor());
}

}  // namespace quorumkv
