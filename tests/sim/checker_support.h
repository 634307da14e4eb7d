// What the checkers share: the facts about operations they all ask, and the
// excerpts of history that show a violation.
#ifndef QUORUMKV_TESTS_SIM_CHECKER_SUPPORT_H_
#define QUORUMKV_TESTS_SIM_CHECKER_SUPPORT_H_

#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "tests/sim/checker.h"

namespace quorumkv::sim {

// The dot a write got: the coordinator's reply says which was acked; the
// recorder knows the dots of writes whose reply never came.
std::optional<Dot> DotOf(const CheckInput& in, const Op& op);
// The write reached some replica.
bool Applied(const CheckInput& in, const Op& op);
// True when `later` replaced the write `earlier_id` (dot `dot`): its client
// had truly seen that write, its context covers it, and it reached a
// replica.
bool Replaced(const CheckInput& in, const Op& later, int earlier_id, const Dot& dot);
// Every copy of the write was destroyed by a fault: it is excused.
bool Destroyed(const CheckInput& in, const Op& op);
// `key`'s write `dot` was deleted, and the tombstone that deleted it
// purged on some node by `by_ms`: a purge took its copies, by design.
bool PurgedAway(const CheckInput& in, const std::string& key, const Dot& dot,
                double by_ms = std::numeric_limits<double>::infinity());
// A replica's final state with the tombstones purged elsewhere taken out:
// holding a purged tombstone and holding nothing agree.
Object WithoutPurged(const CheckInput& in, const std::string& key, const Object& object);
Object MergedFinal(const FinalKeyState& state);
std::string ObjectText(const Object& o);

// The operations on `key` that `keep` selects, and the faults in
// [from_ms, to_ms]: the short history a reader needs to see what went wrong.
std::vector<std::string> Excerpt(const CheckInput& in, const std::string& key, double from_ms,
                                 double to_ms, const std::function<bool(const Op&)>& keep,
                                 const Object& final_state);

// The checkers of each file; each adds to `out`.
void CheckReplies(const CheckInput& in, CheckResult& out);
void CheckSessions(const CheckInput& in, CheckResult& out);
void CheckOutcomes(const CheckInput& in, CheckResult& out);

}  // namespace quorumkv::sim

#endif  // QUORUMKV_TESTS_SIM_CHECKER_SUPPORT_H_
