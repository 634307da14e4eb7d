// kvharness run SCENARIO: starts a fresh cluster, runs the scenario's
// workload while its nemesis injects faults, heals, waits for convergence,
// checks the history (checker.h) and writes it and an HTML report.
//
// Exit codes: 0 every check held, 1 a check failed or the cluster could
// not run the scenario, 2 the scenario file is invalid.
#ifndef QUORUMKV_TOOLS_KVHARNESS_SCENARIO_RUNNER_H_
#define QUORUMKV_TOOLS_KVHARNESS_SCENARIO_RUNNER_H_

#include <cstdint>
#include <string>

namespace quorumkv {

struct ScenarioRunOptions {
  std::string scenario_path;
  std::string dir;            // the cluster's directory (wiped: the cluster is fresh)
  std::string kvnode;         // path of the kvnode binary
  uint64_t seed = 0;          // nonzero: overrides the scenario's
  std::string history_path;   // default DIR/history.jsonl
  std::string report_path;    // default DIR/report.html
  bool keep_cluster = false;  // leave the cluster up after the run
  bool netns = false;         // nodes in network namespaces (netns_cluster.h)
};

int RunScenario(const ScenarioRunOptions& options);

}  // namespace quorumkv

#endif  // QUORUMKV_TOOLS_KVHARNESS_SCENARIO_RUNNER_H_
