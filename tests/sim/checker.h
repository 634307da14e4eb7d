// The invariant checkers of the simulator, run over a run's history, what
// the recorder saw, and the replicas' final states after heal and repair:
//
//   1. no acknowledged write is lost: it survives as a sibling, or a write
//      whose client had truly seen it (Op::observed) replaced it;
//   2. concurrent writes are never silently dropped: the same, for every
//      write that reached any replica, acknowledged or not;
//   3. a read whose R + the write's W > N shows every write acknowledged
//      before the read began (as a sibling, or seen by one it returned);
//   4. dot counters never go backwards, even across crashes;
//   5. the home replicas of every key converge to identical states;
//   6. a sibling replaced by a write that saw it never comes back;
//   7. an acknowledged write is durable on at least W nodes when acked,
//      each a home replica or a fallback keeping a hint;
//   8. after heal, every hint is delivered or accounted for (expired and
//      counted).
//
// "Seen" is tracked by the simulator from what clients were actually shown,
// not from version vectors, so a context that claims too much is caught.
#ifndef QUORUMKV_TESTS_SIM_CHECKER_H_
#define QUORUMKV_TESTS_SIM_CHECKER_H_

#include <map>
#include <string>
#include <vector>

#include "tests/sim/history.h"
#include "tests/sim/sim_node.h"

namespace quorumkv::sim {

struct Violation {
  int invariant = 0;
  std::string what;
  std::vector<std::string> excerpt;  // the shortest history that shows it
};

const char* InvariantName(int invariant);

// The final state of one key on each of its home replicas.
struct FinalKeyState {
  std::vector<std::string> home;
  std::vector<Object> replicas;  // parallel to home
};

struct CheckInput {
  const History* history;
  const Recorder* recorder;
  uint32_t replication = 0;
  std::map<std::string, FinalKeyState> finals;  // by key
  std::vector<std::string> leftover_hints;      // hints still held after heal
  uint64_t hints_expired = 0;                   // dropped for age and counted
};

std::vector<Violation> CheckInvariants(const CheckInput& input);

}  // namespace quorumkv::sim

#endif  // QUORUMKV_TESTS_SIM_CHECKER_H_
