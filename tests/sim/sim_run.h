// One simulated run: a cluster of SimNodes, clients doing puts, gets and
// deletes on a few hot keys, a nemesis injecting faults, then heal, repair
// and the invariant checks. Everything derives from the seed.
#ifndef QUORUMKV_TESTS_SIM_SIM_RUN_H_
#define QUORUMKV_TESTS_SIM_SIM_RUN_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/sim/checker.h"
#include "tests/sim/history.h"
#include "tests/sim/sim_network.h"
#include "tests/sim/sim_node.h"
#include "tests/sim/sim_world.h"

namespace quorumkv::sim {

struct RunOptions {
  uint64_t seed = 1;
  bool trace = false;
  // Test only: one node's store drops a sibling from every write that holds
  // two or more. The checkers must notice.
  bool broken_merge = false;
};

// The shape of a run, drawn from its seed.
struct Scenario {
  int nodes = 3;
  int replication = 3;
  int keys = 4;
  int clients = 4;
  int ops_per_client = 30;
  LinkFaults faults;
  absl::Duration nemesis_interval;  // mean time between faults
};

struct RunResult {
  uint64_t seed = 0;
  Scenario scenario;
  std::vector<Violation> violations;
  std::vector<std::string> trace;
  uint64_t events = 0;
  int ops = 0;
  int acked_writes = 0;
  int sloppy_writes = 0;  // acked with fallbacks standing in
  uint64_t hints_delivered = 0;
  int crashes_during_handoff = 0;  // a node crashed while it still held hints
  int faults = 0;
};

RunResult RunSeed(const RunOptions& options);

// A description of a scenario on one line.
std::string DescribeScenario(const Scenario& scenario);

}  // namespace quorumkv::sim

#endif  // QUORUMKV_TESTS_SIM_SIM_RUN_H_
