// The nemesis of a scenario run: faults, written as kvharness commands
// (nemesis_command.h), applied to a cluster at given times.
#ifndef QUORUMKV_TOOLS_KVHARNESS_NEMESIS_H_
#define QUORUMKV_TOOLS_KVHARNESS_NEMESIS_H_

#include <string>

#include "absl/status/status.h"
#include "tools/kvharness/local_cluster.h"
#include "tools/kvharness/nemesis_command.h"

namespace quorumkv {

// Applies `command` (valid: ValidateNemesisCommand) to `cluster`. Returns
// once it is in place.
absl::Status ApplyNemesisCommand(LocalCluster& cluster, const std::string& command);

}  // namespace quorumkv

#endif  // QUORUMKV_TOOLS_KVHARNESS_NEMESIS_H_
