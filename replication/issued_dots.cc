#include "replication/issued_dots.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace quorumkv {

void IssuedDots::Heard(const std::string& node, const std::string& actor, DotLease lease,
                       absl::Time now) {
  if (node.empty() || lease.ceiling == 0) return;  // an older node says nothing
  if (!absl::StartsWith(actor, absl::StrCat(node, "."))) return;
  absl::MutexLock lock(&mu_);
  Said& said = by_node_[node];
  if (said.actor != actor) {
    said = Said{.actor = actor, .lease = lease, .at = now};
    return;
  }
  said.lease.ceiling = std::max(said.lease.ceiling, lease.ceiling);
  said.lease.block = lease.block;
  said.at = std::max(said.at, now);
}

absl::Status IssuedDots::Check(const Object& object, absl::string_view own_actor,
                               DotLease own_lease, absl::Time now) const {
  absl::MutexLock lock(&mu_);
  for (const auto& [actor, counter] : object.context.entries()) {
    uint64_t bound = UINT64_MAX;
    if (actor == own_actor) {
      bound = own_lease.ceiling;
    } else {
      for (const auto& [node, said] : by_node_) {
        if (said.actor == actor && now - said.at < kFreshFor) {
          bound = said.lease.ceiling > UINT64_MAX - said.lease.block
                      ? UINT64_MAX
                      : said.lease.ceiling + said.lease.block;
          break;
        }
      }
    }
    if (counter > bound) {
      return absl::InvalidArgumentError(absl::StrCat(
          "dot ", actor, ":", counter, " was never issued: ", actor, " can have issued up to ",
          bound, " (",
          actor == own_actor ? "this node's own lease" : "its last ping's lease plus a block",
          "); a forged or corrupt object, refused"));
    }
  }
  return absl::OkStatus();
}

}  // namespace quorumkv
