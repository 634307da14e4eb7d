// What the simulated nodes did, seen from below the replication core and
// from the network: every dot issued (and the simulated operation it was
// issued for), every dot that reached some replica's disk, what replicas
// answered to reads, and the replica calls each operation made. The
// checkers read it; nothing in the core sees it.
#ifndef QUORUMKV_TESTS_SIM_RECORDER_H_
#define QUORUMKV_TESTS_SIM_RECORDER_H_

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "replication/object.h"

namespace quorumkv::sim {

// Not thread-safe (one world, one thread).
struct Recorder {
  // The operation whose work runs now: set while its client call runs, and
  // while the callbacks of the replica calls it made run (SimTransport).
  int current_op = -1;
  std::map<int, Dot> dot_of_op;
  std::map<Dot, int> op_of_dot;
  std::set<Dot> stored;                          // dots that reached a replica
  std::map<std::string, uint64_t> last_counter;  // per actor
  std::vector<std::string> dot_violations;       // invariant 4
  uint64_t dots_checked = 0;

  // Invariant 9, at the replica: an answer "not found" (a home replica with
  // no object, a fallback with no hint) from a node that held a version of
  // the key, as a replica or in a hint for any home.
  std::vector<std::string> read_answer_violations;
  uint64_t read_answers_checked = 0;

  // Invariant 10: per operation, each replica call its coordinator made and
  // how it ended.
  struct CallEnd {
    std::string kind;  // "read" or "write"
    std::string to;
    std::string hinted_for;
    bool ok = false;
    bool found = false;  // a read's answer
  };
  std::map<int, std::vector<CallEnd>> calls_of_op;

  // Invariant 12: hints each node dropped for age since its disk was last
  // wiped, as seen at its store.
  std::map<std::string, uint64_t> hints_expired;
  // Per key, the merged context of every copy of it lost to a fault or to
  // an expired hint: the writes it covers may have fewer copies than acked.
  std::map<std::string, VersionVector> lost_copies;
  // Per key, each hint dropped for age: the node that kept it and its
  // context (the writes it held). Expiry is allowed at any time after the
  // fallback's ack, even before the coordinator's reply reaches the client.
  std::map<std::string, std::vector<std::pair<std::string, VersionVector>>> expired_hints;

  // Called after a copy of some write was lost to an expired hint, so that
  // the simulation can tell whether it was the write's last one.
  std::function<void()> on_copy_dropped;

  // Tombstone purge: per key, when each purged tombstone was purged (on
  // some node) and its context. A tombstone's context covers exactly the
  // deleted writes: the deletes, and what they replaced. Invariants 1, 2,
  // 3, 5 and 7 excuse what a purge took; 15 checks it stays deleted.
  struct Purge {
    double at_ms = 0;
    VersionVector context;
  };
  std::map<std::string, std::vector<Purge>> purges;
  uint64_t tombstones_purged = 0;
  std::function<double()> now_ms;  // the world's elapsed time

  void Purged(const std::string& key, const Object& tombstone) {
    purges[key].push_back(Purge{now_ms ? now_ms() : 0, tombstone.context});
    ++tombstones_purged;
  }

  void DotIssued(const Dot& dot);
  void Stored(const Object& object);
  void CopyLost(const std::string& key, const Object& object) {
    lost_copies[key].Merge(object.context);
  }
};

}  // namespace quorumkv::sim

#endif  // QUORUMKV_TESTS_SIM_RECORDER_H_
