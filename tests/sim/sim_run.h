// One simulated run: a cluster of SimNodes, clients doing puts, gets and
// deletes on a few hot keys (some in a last-writer-wins namespace, some in
// a namespace with min_w), a hostile client sending forged contexts, a
// nemesis injecting faults, then heal, repair and the invariant checks.
// Everything derives from the seed.
#ifndef QUORUMKV_TESTS_SIM_SIM_RUN_H_
#define QUORUMKV_TESTS_SIM_SIM_RUN_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "tests/sim/checker.h"
#include "tests/sim/coverage.h"
#include "tests/sim/mutation.h"
#include "tests/sim/sim_network.h"

namespace quorumkv::sim {

struct RunOptions {
  uint64_t seed = 1;
  bool trace = false;
  Mutation mutation = Mutation::kNone;  // a deliberate bug (mutation.h)
  // A failed invariant check of the replication core (invariant.h) aborts
  // the process, printing the seed; false: it fails the request INTERNAL,
  // as in a release kvnode, and the checkers see what follows.
  bool abort_on_invariant = true;
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
  bool sync_writes = true;
  absl::Duration max_hint_age;        // zero: the config's default (3 h)
  std::vector<absl::Duration> skews;  // per node: how far its clock runs ahead
  double forged_rate = 0;             // share of writes the hostile client forges
  absl::Duration tombstone_grace;     // zero: tombstones are never purged
  // Between anti-entropy rounds: short ones advance freshness watermarks
  // while the clients run.
  absl::Duration anti_entropy_interval = absl::Seconds(3);
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
  Coverage coverage;
  uint64_t lww_losses = 0;        // writes a last-writer-wins key dropped (allowed, counted)
  uint64_t destroyed_writes = 0;  // writes every copy of which a fault destroyed
};

RunResult RunSeed(const RunOptions& options);

// A description of a scenario on one line.
std::string DescribeScenario(const Scenario& scenario);

}  // namespace quorumkv::sim

#endif  // QUORUMKV_TESTS_SIM_SIM_RUN_H_
