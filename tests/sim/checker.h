// The invariant checkers of the simulator, run over a run's history, what
// the recorder saw, and the replicas' final states after heal and repair.
//
// What survives (checker.cc):
//   1. no acknowledged write is lost: it survives as a sibling, or a write
//      whose client had truly seen it (Op::observed) replaced it;
//   2. concurrent writes are never silently dropped: the same, for every
//      write that reached any replica, acknowledged or not;
//   4. dot counters never go backwards, even across crashes;
//   5. the home replicas of every key converge to identical states, by
//      anti-entropy alone, within one round of every node after the heal;
//   6. a sibling replaced by a write that saw it never comes back;
//   7. an acknowledged write is durable on at least W nodes when acked,
//      each a home replica or a fallback keeping a hint (and still after the
//      final heal, unless a fault or an expired hint took a copy);
//   8. after heal, every hint is delivered.
// What replies claimed (checker_replies.cc):
//   3. a read reflects every write its overlap claim covers: with
//      strict_overlap, every write acknowledged before it began; else every
//      write then durable on at least covers_w of the key's home replicas;
//   9. a not-found is honest: no replica answered "not found" while holding
//      a version of the key (as a home replica, or in a hint for any home),
//      and no read counted a fallback's empty answer;
//  10. every reply's quorum metadata (replied, fallbacks, hinted_for) is
//      what the simulated network delivered to its coordinator.
// What outcomes claimed (checker_outcomes.cc):
//  11. a write with a forged context is refused, and nothing of it stored;
//  12. every hint dropped for age is counted durably by the node that
//      dropped it;
//  13. a write refused with "nothing written" wrote nothing.
// What anti-entropy rests on (simulation.cc, at the end of a run):
//  14. every running node's Merkle trees equal trees built afresh from its
//      store: the trees it maintains as writes land hide no difference.
// What sessions and staleness bounds promise (checker_sessions.cc,
// checker_replies.cc):
//  16. a successful session read reflects (shows, or shows a write that
//      saw) every write its session had acknowledged for the key, and
//      everything a read the session was given before had reflected;
//  17. a read reporting staleness_bound_ms = B reflects every write
//      acknowledged at least B before it began (the excuses of 3).
// What tombstone purge rests on (checker_replies.cc):
//  15. a read whose claim covers an acknowledged delete shows none of the
//      values the delete replaced, whether its tombstone is still held or
//      was purged. A purge takes the delete's dot and the context covering
//      what it replaced: 1, 2, 5 and 7 excuse exactly that, and 3 excuses a
//      read that completed after a purge for missing what it deleted.
//
// Writes every copy of which a fault destroyed (a power loss without sync,
// a lost log tail, a wiped disk) are excused from 1, 2, 3 and 7; writes of
// the last-writer-wins namespace from 1, 2, 3 and 6 (their loss is by
// design, counted, never hidden). "Seen" is tracked by the simulator from
// what clients were actually shown, not from version vectors, so a context
// that claims too much is caught.
#ifndef QUORUMKV_TESTS_SIM_CHECKER_H_
#define QUORUMKV_TESTS_SIM_CHECKER_H_

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/sim/history.h"
#include "tests/sim/recorder.h"

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
  std::set<Dot> destroyed;                      // writes every copy of which a fault destroyed
  // Per node, the count of hints it dropped for age, as its store keeps it.
  std::map<std::string, uint64_t> durable_expired;
  // Whether a key is of the last-writer-wins namespace.
  std::function<bool(const std::string& key)> lossy;
  // Partitions (of running nodes) whose maintained tree was compared with
  // one built from the store, and those that differed.
  uint64_t trees_checked = 0;
  std::vector<std::string> tree_mismatches;
};

struct CheckResult {
  std::vector<Violation> violations;
  std::map<int, uint64_t> checks;  // by invariant: items checked
  uint64_t lww_losses = 0;         // writes a last-writer-wins key dropped
};

CheckResult CheckInvariants(const CheckInput& input);

}  // namespace quorumkv::sim

#endif  // QUORUMKV_TESTS_SIM_CHECKER_H_
