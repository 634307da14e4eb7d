// The targets kvbench knows (see target.h).
#ifndef QUORUMKV_TOOLS_KVBENCH_TARGETS_H_
#define QUORUMKV_TOOLS_KVBENCH_TARGETS_H_

#include <memory>
#include <string>

#include "tools/kvbench/target.h"

namespace quorumkv::bench {

std::unique_ptr<Target> MakeQuorumKvTarget(const TargetOptions& options,
                                           const std::string& bin_dir);
std::unique_ptr<Target> MakeEtcdTarget();
std::unique_ptr<Target> MakeRedisTarget(const TargetOptions& options);

}  // namespace quorumkv::bench

#endif  // QUORUMKV_TOOLS_KVBENCH_TARGETS_H_
