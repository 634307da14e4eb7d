// What the checks of a scenario run (checker.h) share: a history indexed
// by key, and how a check reports what it found. Internal to checker.cc
// (what survives) and checker_claims.cc (what replies claimed).
#ifndef QUORUMKV_TOOLS_KVHARNESS_CHECKER_SUPPORT_H_
#define QUORUMKV_TOOLS_KVHARNESS_CHECKER_SUPPORT_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tools/kvharness/checker.h"
#include "tools/kvharness/history.h"

namespace quorumkv {

// A key's operations.
struct KeyOps {
  std::vector<const Operation*> writes;  // writes and deletes that may have happened
  std::vector<const Operation*> acked;   // writes and deletes acknowledged
  std::vector<const Operation*> reads;   // ok reads, clients' and the harness's
  const Operation* final_state = nullptr;
  // Who saw what: an edge a -> b when b saw a. A read saw the writes of the
  // siblings it returned; a write saw the operation its context came from
  // (its client's last ok read or acknowledged write of the key). Whatever
  // reaches a write through these edges, its writer had read.
  std::map<int64_t, std::vector<const Operation*>> seen_by;
  std::map<Dot, const Operation*> writer_by_dot;
  std::map<std::string, const Operation*> writer_by_value;
  // A write sent twice (a retry through another coordinator) is stored as
  // two copies with its idempotency key and two dots; the client learns one.
  std::map<std::string, const Operation*> writer_by_idempotency_key;
  std::vector<const Operation*> unknown_deletes;  // outcome unknown: no dot to tell them apart
};

// "op 7 (client 1 write 'c1-4' of k3 at 0.120 s, ok)".
std::string Describe(const Operation& op);
// Fails `r` with `problem` (kept up to a cap) and the operations showing it.
void AddProblem(CheckResult* r, const std::string& problem, std::vector<int64_t> ops);
// Notes how many problems past the cap were left out of `r`.
void CapProblems(CheckResult* r, size_t total);

// checker_claims.cc: what replies claimed (see checker.h).
CheckResult CheckStrictReads(const std::map<std::string, KeyOps>& keys);
CheckResult CheckSessions(const History& history, const std::map<std::string, KeyOps>& keys);
CheckResult CheckStalenessBounds(const std::map<std::string, KeyOps>& keys);

}  // namespace quorumkv

#endif  // QUORUMKV_TOOLS_KVHARNESS_CHECKER_SUPPORT_H_
