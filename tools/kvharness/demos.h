// The narrated consistency demos of `kvharness demo NAME`: each runs against
// a cluster started with `kvharness up`, prints what it does, what it sees
// and why, and fails (non-zero exit) if the store misbehaved.
#ifndef QUORUMKV_TOOLS_KVHARNESS_DEMOS_H_
#define QUORUMKV_TOOLS_KVHARNESS_DEMOS_H_

#include <string>
#include <vector>

#include "tools/kvharness/local_cluster.h"

namespace quorumkv {

std::vector<std::string> DemoNames();
// One line per demo, what it shows; then the ones that do not exist yet, and why.
void PrintDemoList();
// 0 if the store behaved as the demo expects, 1 if not, 2 for an unknown name.
int RunDemo(const std::string& name, LocalCluster& cluster);

}  // namespace quorumkv

#endif  // QUORUMKV_TOOLS_KVHARNESS_DEMOS_H_
