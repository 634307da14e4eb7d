// The history of a simulated run: every client operation with its times and
// outcome, and every fault the nemesis injected.
#ifndef QUORUMKV_TESTS_SIM_HISTORY_H_
#define QUORUMKV_TESTS_SIM_HISTORY_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "proto/kv.pb.h"
#include "replication/object.h"

namespace quorumkv::sim {

enum class OpType { kPut, kDelete, kGet };
enum class Outcome { kPending, kOk, kFail, kUnknown };

struct Op {
  int id = 0;
  int client = 0;
  OpType type = OpType::kGet;
  std::string key;
  std::string value;            // unique per put
  VersionVector context;        // what the client sent with a put or delete
  uint32_t quorum = 0;          // R or W
  bool strict = false;          // no fallbacks allowed
  bool used_fallbacks = false;  // fallbacks answered in place of home replicas
  int durable_copies = -1;      // an acked write: nodes holding it when acked
  int expired_copies = 0;       // ... and nodes not holding it then, whose hint of it expired
  int healed_copies = -1;       // ... and after heal and handoff, before repair
  std::string coordinator;      // the node the client sent it to
  double invoke_ms = 0;
  double complete_ms = 0;
  Outcome outcome = Outcome::kPending;
  std::string error;
  std::optional<Dot> dot;  // a write's dot, when the coordinator said
  // The writes this operation's client had truly seen of the key: for a
  // write, when it was issued; for a get, what its answer showed (each
  // returned sibling and everything its writer had seen). Kept apart from
  // the version vectors, so the checkers can catch a context that claims
  // more than its client saw.
  std::set<int> observed;
  // A successful get's answer.
  std::vector<Sibling> siblings;
  VersionVector read_context;

  // A write from the hostile client: its context names writes the cluster
  // never issued (invariant 11).
  bool forged = false;
  absl::StatusCode code = absl::StatusCode::kOk;  // of a completed operation
  // The quorum metadata of the reply, whatever the outcome.
  std::optional<::quorumkv::v1::QuorumInfo> reply_quorum;
  // A get: what each home replica of the key held durably when it began
  // (the writes its context covers), by node (invariant 3).
  std::map<std::string, VersionVector> home_contexts;

  // Of a session client (even-numbered): its acked writes and successful
  // reads join its session, and its gets are session reads (invariant 16).
  bool session = false;
  uint32_t session_reads = 0;               // a session get: reads sent (above 1: it escalated)
  std::optional<int64_t> max_staleness_ms;  // a session get asking bounded staleness
  bool allow_stale = false;

  bool is_write() const { return type != OpType::kGet; }
};

struct FaultEvent {
  double at_ms = 0;
  std::string what;
  bool data_loss = false;  // a node's disk lost writes (power loss, log tail, wipe)
};

struct History {
  std::vector<Op> ops;  // indexed by Op::id
  std::vector<FaultEvent> faults;

  // Whether a fault that lost data happened within [from_ms, to_ms].
  bool DataLossBetween(double from_ms, double to_ms) const;
};

// One line per operation, e.g.
// "#12 c2 put k1=\"c2-7\" ctx{..} W=2 via n3 @10.2..12.9ms -> ok dot n1.x:4".
std::string DescribeOp(const Op& op);

}  // namespace quorumkv::sim

#endif  // QUORUMKV_TESTS_SIM_HISTORY_H_
