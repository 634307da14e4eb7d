#include "replication/quorum.h"

#include "absl/strings/str_cat.h"

namespace quorumkv {

absl::Status ValidateQuorumSize(absl::string_view name, uint32_t value, uint32_t n) {
  if (value >= 1 && value <= n) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(name, "=", value, " is not in 1..N=", n));
}

}  // namespace quorumkv
