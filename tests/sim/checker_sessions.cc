// Invariant 16: session guarantees, from the history alone. For every
// successful session read g: each write its client had acknowledged for the
// key before g began is among what g truly observed (Op::observed: the
// siblings it was shown and everything their writers had seen, not its
// version vector), and so is everything the client's earlier successful
// session reads of the key observed.
#include "absl/strings/str_cat.h"
#include "tests/sim/checker_support.h"

namespace quorumkv::sim {
namespace {

// Whether `g` must reflect `w`, whose every copy may be gone: destroyed by
// a fault, or purged with its tombstone.
bool Excused(const CheckInput& in, const Op& g, const Op& w) {
  if (Destroyed(in, w)) return true;
  std::optional<Dot> dot = DotOf(in, w);
  return !dot || PurgedAway(in, g.key, *dot, g.complete_ms);
}

void Report(const CheckInput& in, const Op& g, const Op& before, const std::string& what,
            CheckResult& out) {
  out.violations.push_back(
      {16,
       absl::StrCat("session read #", g.id, " (client ", g.client, ", ", g.session_reads,
                    " reads) ", what),
       Excerpt(
           in, g.key, before.invoke_ms, g.complete_ms,
           [&](const Op& op) { return op.client == g.client || op.is_write(); },
           MergedFinal(in.finals.at(g.key)))});
}

void CheckSessionRead(const CheckInput& in, const Op& g, CheckResult& out) {
  for (const Op& o : in.history->ops) {
    if (o.client != g.client || o.key != g.key || !o.session || o.outcome != Outcome::kOk ||
        o.complete_ms > g.invoke_ms || o.id == g.id) {
      continue;
    }
    if (o.is_write()) {
      if (o.forged || Excused(in, g, o)) continue;
      ++out.checks[16];
      if (g.observed.count(o.id) == 0) {
        Report(in, g, o, absl::StrCat("missed the session's own acknowledged write #", o.id), out);
        return;
      }
      continue;
    }
    for (int seen : o.observed) {
      const Op& w = in.history->ops[seen];
      if (Excused(in, g, w)) continue;
      ++out.checks[16];
      if (g.observed.count(seen) == 0) {
        Report(in, g, o,
               absl::StrCat("missed write #", seen, ", which the session's earlier read #", o.id,
                            " had reflected"),
               out);
        return;
      }
    }
  }
}

}  // namespace

void CheckSessions(const CheckInput& in, CheckResult& out) {
  for (const Op& g : in.history->ops) {
    if (g.type != OpType::kGet || !g.session || g.outcome != Outcome::kOk || in.lossy(g.key)) {
      continue;
    }
    // A fault that lost data while the read ran may have taken what it
    // would have seen.
    if (in.history->DataLossBetween(g.invoke_ms, g.complete_ms)) continue;
    CheckSessionRead(in, g, out);
  }
}

}  // namespace quorumkv::sim
