// What replies claimed: invariants 3 (a read's overlap claim), 9 (honest
// not-found), 10 (quorum metadata) and 17 (a read's staleness bound).
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "tests/sim/checker_support.h"

namespace quorumkv::sim {
namespace {

namespace pb = ::quorumkv::v1;

// Home replicas that held `dot` durably when the get began.
uint32_t HomeCopiesAtStart(const Op& get, const Dot& dot) {
  uint32_t copies = 0;
  for (const auto& [home, context] : get.home_contexts) copies += context.Covers(dot) ? 1 : 0;
  return copies;
}

// Whether the get's claim covers the write: strict_overlap covers every
// acknowledged write; covers_w those on that many home replicas.
bool ClaimCovers(const Op& get, const Dot& dot) {
  if (get.reply_quorum->strict_overlap()) return true;
  const uint32_t covers = get.reply_quorum->covers_w();
  return covers > 0 && HomeCopiesAtStart(get, dot) >= covers;
}

// Whether the get's staleness bound covers the write: acknowledged at
// least that long before the read began.
bool BoundCovers(const Op& get, const Op& write) {
  const pb::QuorumInfo& q = *get.reply_quorum;
  return q.has_staleness_bound_ms() &&
         write.complete_ms <= get.invoke_ms - static_cast<double>(q.staleness_bound_ms());
}

// Whether the strict get `g` asked every home replica of a key that the
// delete `d` reached, home replicas only, before `g` began: it must see
// the tombstone, or nothing once it is purged. (Its covers_w claim counts
// the copies when it began, which a purge takes.)
bool ReadsEveryHome(const CheckInput& in, const Op& d, const Op& g) {
  // The reply's own R and strictness: a session read's reply may come from
  // a read of fewer replicas than the op asked for.
  return !g.reply_quorum->sloppy() && g.reply_quorum->required() == in.replication &&
         !d.used_fallbacks;
}

// 15: a read whose claim covers the acknowledged delete `d` shows none of
// the values `d` replaced, whether its tombstone is still held or purged.
void CheckDeletedStaysDeleted(const CheckInput& in, const Op& d, const Op& g, CheckResult& out) {
  ++out.checks[15];
  for (const Sibling& s : g.siblings) {
    if (s.tombstone) continue;
    auto seen = in.recorder->op_of_dot.find(s.dot);
    if (seen == in.recorder->op_of_dot.end() || !Replaced(in, d, seen->second, s.dot)) continue;
    out.violations.push_back(
        {15,
         absl::StrCat(
             "get #", g.id, " returned write #", seen->second, "'s value (dot ", DotToString(s.dot),
             ") although delete #", d.id, " replaced it and was acknowledged before the read began",
             PurgedAway(in, g.key, *DotOf(in, d), g.invoke_ms) ? " (its tombstone purged since)"
                                                               : ""),
         Excerpt(
             in, g.key, d.invoke_ms, g.complete_ms,
             [&](const Op& op) { return op.id == d.id || op.id == g.id || op.id == seen->second; },
             MergedFinal(in.finals.at(g.key)))});
    return;
  }
}

void CheckReadClaims(const CheckInput& in, CheckResult& out) {
  for (const Op& g : in.history->ops) {
    if (g.type != OpType::kGet || g.outcome != Outcome::kOk || !g.reply_quorum || in.lossy(g.key)) {
      continue;
    }
    // A fault that lost data while the read ran may have taken what it
    // would have seen: the claims are about replicas that keep their writes.
    if (in.history->DataLossBetween(g.invoke_ms, g.complete_ms)) continue;
    for (const Op& w : in.history->ops) {
      if (!w.is_write() || w.key != g.key || w.outcome != Outcome::kOk || w.forged) continue;
      if (w.complete_ms >= g.invoke_ms || Destroyed(in, w)) continue;
      std::optional<Dot> dot = DotOf(in, w);
      if (!dot) continue;
      if (w.type == OpType::kDelete && (ClaimCovers(g, *dot) || ReadsEveryHome(in, w, g))) {
        CheckDeletedStaysDeleted(in, w, g, out);
      }
      if (BoundCovers(g, w) && !PurgedAway(in, g.key, *dot, g.complete_ms)) {
        ++out.checks[17];
        if (g.observed.count(w.id) == 0) {
          out.violations.push_back(
              {17,
               absl::StrCat("get #", g.id, " reported a staleness bound of ",
                            g.reply_quorum->staleness_bound_ms(), " ms but missed write #", w.id,
                            " (dot ", DotToString(*dot), "), acknowledged ",
                            g.invoke_ms - w.complete_ms, " ms before the read began"),
               Excerpt(
                   in, g.key, w.invoke_ms, g.complete_ms,
                   [&](const Op& op) { return op.id == w.id || op.id == g.id; },
                   MergedFinal(in.finals.at(g.key)))});
        }
      }
      if (!ClaimCovers(g, *dot)) continue;
      // A purge leaves nothing of a deleted write to reflect: 15 stands
      // for it.
      if (PurgedAway(in, g.key, *dot, g.complete_ms)) continue;
      ++out.checks[3];
      if (g.observed.count(w.id) > 0) continue;
      out.violations.push_back(
          {3,
           absl::StrCat("get #", g.id, " (R=", g.reply_quorum->required(), ", ",
                        g.reply_quorum->strict_overlap()
                            ? "strict_overlap"
                            : absl::StrCat("covers_w=", g.reply_quorum->covers_w()),
                        ") missed write #", w.id, " (W=", w.quorum, ", dot ", DotToString(*dot),
                        ", on ", HomeCopiesAtStart(g, *dot), " home replicas when the read began)"),
           Excerpt(
               in, g.key, w.invoke_ms, g.complete_ms,
               [&](const Op& op) {
                 return op.id == w.id || op.id == g.id ||
                        (op.is_write() && op.invoke_ms <= g.complete_ms &&
                         op.complete_ms >= w.invoke_ms);
               },
               MergedFinal(in.finals.at(g.key)))});
    }
  }
}

const Recorder::CallEnd* FindCall(const CheckInput& in, const Op& op, const std::string& kind,
                                  const pb::ReplicaAnswer& answer) {
  auto it = in.recorder->calls_of_op.find(op.id);
  if (it == in.recorder->calls_of_op.end()) return nullptr;
  const std::string hinted_for = answer.fallback() ? answer.hinted_for() : "";
  const Recorder::CallEnd* best = nullptr;
  for (const Recorder::CallEnd& call : it->second) {
    if (call.kind != kind || call.to != answer.node() || call.hinted_for != hinted_for ||
        !call.ok) {
      continue;
    }
    if (best == nullptr || (call.found && !best->found)) best = &call;
  }
  return best;
}

// 9 at the coordinator: a read counts a fallback only if it answered with
// a hint; 10: every answer the reply names was delivered as it says.
void CheckQuorumMetadata(const CheckInput& in, CheckResult& out) {
  for (const Op& op : in.history->ops) {
    if (!op.reply_quorum || op.outcome == Outcome::kPending) continue;
    const pb::QuorumInfo& q = *op.reply_quorum;
    const std::string kind = op.is_write() ? "write" : "read";
    std::vector<std::string> fallbacks;
    for (const pb::ReplicaAnswer& answer : q.replied()) {
      ++out.checks[10];
      if (answer.fallback()) fallbacks.push_back(answer.node());
      if (answer.node() == q.coordinator() && !answer.fallback()) continue;  // its own replica
      const Recorder::CallEnd* call = FindCall(in, op, kind, answer);
      if (call == nullptr) {
        out.violations.push_back(
            {10,
             absl::StrCat("#", op.id, "'s reply names ", answer.node(),
                          answer.fallback() ? absl::StrCat(" (for ", answer.hinted_for(), ")") : "",
                          " among the replicas that answered, but no such ", kind,
                          " answer reached its coordinator ", q.coordinator()),
             {DescribeOp(op)}});
        continue;
      }
      if (kind == "read" && answer.fallback()) {
        ++out.checks[9];
        if (!call->found) {
          out.violations.push_back({9,
                                    absl::StrCat("get #", op.id, " counted ", answer.node(),
                                                 ", a fallback that holds no hint of the key"),
                                    {DescribeOp(op)}});
        }
      }
    }
    std::vector<std::string> listed(q.fallbacks().begin(), q.fallbacks().end());
    std::sort(listed.begin(), listed.end());
    std::sort(fallbacks.begin(), fallbacks.end());
    if (listed != fallbacks) {
      out.violations.push_back(
          {10,
           absl::StrCat("#", op.id, "'s reply lists fallbacks that are not those that answered"),
           {DescribeOp(op)}});
    }
  }
}

}  // namespace

void CheckReplies(const CheckInput& in, CheckResult& out) {
  CheckReadClaims(in, out);
  out.checks[9] += in.recorder->read_answers_checked;
  for (const std::string& v : in.recorder->read_answer_violations) {
    out.violations.push_back({9, v, {}});
  }
  CheckQuorumMetadata(in, out);
}

}  // namespace quorumkv::sim
