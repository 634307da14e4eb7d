// What outcomes claimed: invariants 11 (forged contexts refused), 12
// (expired hints counted) and 13 ("nothing written" is true).
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/sim/checker_support.h"

namespace quorumkv::sim {
namespace {

void CheckForgedContexts(const CheckInput& in, CheckResult& out) {
  for (const Op& w : in.history->ops) {
    if (!w.forged || w.outcome == Outcome::kPending) continue;
    ++out.checks[11];
    if (w.outcome == Outcome::kOk) {
      out.violations.push_back(
          {11,
           absl::StrCat("write #", w.id, " with a forged context was acknowledged"),
           {DescribeOp(w)}});
    } else if (Applied(in, w)) {
      out.violations.push_back(
          {11,
           absl::StrCat("write #", w.id, " with a forged context reached a replica"),
           {DescribeOp(w)}});
    } else if (w.outcome == Outcome::kFail && w.code != absl::StatusCode::kInvalidArgument &&
               w.code != absl::StatusCode::kUnavailable) {
      out.violations.push_back(
          {11,
           absl::StrCat("write #", w.id, " with a forged context failed ",
                        absl::StatusCodeToString(w.code),
                        " (bad input is INVALID_ARGUMENT; an unchecked context UNAVAILABLE)"),
           {DescribeOp(w)}});
    }
  }
}

void CheckExpiryCounts(const CheckInput& in, CheckResult& out) {
  for (const auto& [node, durable] : in.durable_expired) {
    auto seen = in.recorder->hints_expired.find(node);
    const uint64_t dropped = seen == in.recorder->hints_expired.end() ? 0 : seen->second;
    out.checks[12] += dropped;
    if (durable == dropped) continue;
    out.violations.push_back(
        {12, absl::StrCat(node, " dropped ", dropped, " hints for age but counts ", durable), {}});
  }
}

void CheckNothingWritten(const CheckInput& in, CheckResult& out) {
  for (const Op& w : in.history->ops) {
    if (!w.is_write() || w.outcome == Outcome::kOk) continue;
    if (!absl::StrContains(w.error, "nothing written") &&
        !absl::StrContains(w.error, "nothing was written")) {
      continue;
    }
    ++out.checks[13];
    if (!Applied(in, w)) continue;
    out.violations.push_back(
        {13,
         absl::StrCat("write #", w.id, " said nothing was written, but it reached a replica"),
         {DescribeOp(w)}});
  }
}

}  // namespace

void CheckOutcomes(const CheckInput& in, CheckResult& out) {
  CheckForgedContexts(in, out);
  CheckExpiryCounts(in, out);
  CheckNothingWritten(in, out);
}

}  // namespace quorumkv::sim
