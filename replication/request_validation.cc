#include "replication/request_validation.h"

#include "absl/strings/str_cat.h"
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
  return ValidateQuorumSize("W", EffectiveW(config, request), config.replication_factor());
}

absl::Status ValidateGetRequest(const pb::ClusterConfig& config, const pb::GetRequest& request) {
  RETURN_IF_ERROR(ValidateKey(config, request.key()));
  return ValidateQuorumSize("R", EffectiveR(config, request), config.replication_factor());
}

}  // namespace quorumkv
