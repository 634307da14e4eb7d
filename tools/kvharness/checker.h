// The checks of a scenario run (kvharness run): what a history must show
// for the store to have kept its promises. Pure functions of the history;
// the final state of a key is the harness's last successful read of it
// after the heal (client -1, every home replica).
//
// "Replaced" below: a write (or delete) replaces a value when its writer
// read it, directly or through what it read, and its context covers the
// value's dot. "Read" follows the history, not the context: a write saw
// the operation its client's context came from (the client's last ok read
// or acknowledged write of the key), a read saw the writes of the values it
// returned. A context covering a value no chain of reads leads from (a
// store merging clocks while dropping the value) replaces nothing. A write
// whose outcome is unknown (info) may have happened, so it may replace too;
// a failed one (refused, nothing written) does not.
#ifndef QUORUMKV_TOOLS_KVHARNESS_CHECKER_H_
#define QUORUMKV_TOOLS_KVHARNESS_CHECKER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "tools/kvharness/history.h"

namespace quorumkv {

struct CheckResult {
  std::string name;
  bool passed = true;
  std::string summary;                // what was checked and found, one line
  std::vector<std::string> problems;  // one sentence per violation (capped)
  std::vector<int64_t> ops;           // the operations that show them
};

// What the runner measured after its final heal.
struct Convergence {
  bool reached = false;  // hints drained and a round of final reads repaired nothing
  int64_t took_us = 0;   // from the heal until then
  int64_t bound_us = 0;
  std::string detail;  // why not, when not reached
};

struct CheckOptions {
  // The keys are last-writer-wins: losing concurrent writes is by design,
  // so lost writes are counted, not failed, and siblings are not expected.
  bool lww = false;
  Convergence convergence;
  int64_t min_acked_writes = 10;
  int64_t min_ok_reads = 10;
};

// Every check, in a fixed order:
//   acked-writes-survive   an acknowledged write is in the final state, or
//                          replaced (siblings namespaces; LWW: counted as
//                          lww-losses-counted, never failed)
//   siblings-kept          where several acknowledged writes were concurrent
//                          and none replaced, the final state keeps them all
//   superseded-stay-gone   no value replaced by an acknowledged write is in
//                          the final state
//   no-phantom-values      every value read was written, with the dot its
//                          write was acknowledged with
//   strict-reads-honest    a read claiming strict_overlap (or covers_w = c)
//                          reflects every write acknowledged (on >= c home
//                          replicas) before it began, found:false included
//   session-guarantees     a session read reflects every write its session
//                          had acknowledged for the key, and every context
//                          the session read of it, before it began (and
//                          counts the session reads that escalated)
//   staleness-bounds-honest  a read reporting staleness_bound_ms = B
//                          reflects every write acknowledged at least B
//                          before it began
//   converged              the final heal converged within the bound
//   enough-operations      the run acknowledged enough to check
std::vector<CheckResult> CheckHistory(const History& history, const CheckOptions& options);

}  // namespace quorumkv

#endif  // QUORUMKV_TOOLS_KVHARNESS_CHECKER_H_
