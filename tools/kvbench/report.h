// kvbench's output: a table per target with ratios against quorumkv, JSON,
// and an SVG latency CDF.
#ifndef QUORUMKV_TOOLS_KVBENCH_REPORT_H_
#define QUORUMKV_TOOLS_KVBENCH_REPORT_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "tools/kvbench/runner.h"

namespace quorumkv::bench {

struct Environment {
  std::string machine;  // "2 cores, 24 GiB, Linux 6.1"
  double fsync_per_second = 0;
};

std::string TextReport(const RunOptions& options, const Environment& env,
                       const std::vector<TargetResult>& results);
nlohmann::json JsonReport(const RunOptions& options, const Environment& env,
                          const std::vector<TargetResult>& results);
// The latency CDF of every target's operations, log-scaled.
absl::Status WriteSvgCdf(const std::vector<TargetResult>& results, const std::string& path);

// Describes this machine: cores, memory, kernel.
std::string DescribeMachine();

}  // namespace quorumkv::bench

#endif  // QUORUMKV_TOOLS_KVBENCH_REPORT_H_
