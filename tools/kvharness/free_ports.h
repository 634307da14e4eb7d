// Free TCP ports on loopback for a local cluster's nodes, proxies and
// metrics endpoints.
#ifndef QUORUMKV_TOOLS_KVHARNESS_FREE_PORTS_H_
#define QUORUMKV_TOOLS_KVHARNESS_FREE_PORTS_H_

#include <vector>

#include "absl/status/statusor.h"

namespace quorumkv {

// Free TCP ports on 127.0.0.1, distinct, below the kernel's ephemeral range
// (so that no outgoing connection takes one before its server binds it).
absl::StatusOr<std::vector<int>> PickFreePorts(int count);

}  // namespace quorumkv

#endif  // QUORUMKV_TOOLS_KVHARNESS_FREE_PORTS_H_
