// What survives: invariants 1, 2, 4, 5, 6, 7 and 8, and what every checker
// shares (checker_support.h).
#include "tests/sim/checker.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tests/sim/checker_support.h"

namespace quorumkv::sim {
namespace {

constexpr size_t kExcerptLines = 24;

bool HasSibling(const Object& object, const Dot& dot) {
  return std::any_of(object.siblings.begin(), object.siblings.end(),
                     [&](const Sibling& s) { return s.dot == dot; });
}

// For a write gone missing: it, and the writes after it that reached a
// replica (the only ones that could have replaced it).
std::vector<std::string> LostWriteExcerpt(const CheckInput& in, const Op& w,
                                          const Object& final_state) {
  return Excerpt(
      in, w.key, w.invoke_ms, std::numeric_limits<double>::infinity(),
      [&](const Op& op) {
        return op.id == w.id || (op.is_write() && op.complete_ms >= w.invoke_ms && Applied(in, op));
      },
      final_state);
}

void CheckWritesSurvive(const CheckInput& in, CheckResult& out) {
  for (const Op& w : in.history->ops) {
    if (!w.is_write() || w.forged) continue;
    const bool acked = w.outcome == Outcome::kOk;
    auto final_it = in.finals.find(w.key);
    if (final_it == in.finals.end() || Destroyed(in, w)) continue;
    const Object final_state = MergedFinal(final_it->second);
    ++out.checks[acked ? 1 : 2];
    if (!Applied(in, w)) {
      if (acked) {
        out.violations.push_back(
            {1, absl::StrCat("write #", w.id, " was acknowledged but never stored"),
             LostWriteExcerpt(in, w, final_state)});
      }
      continue;
    }
    const Dot dot = *DotOf(in, w);
    if (HasSibling(final_state, dot)) continue;
    // A purged tombstone takes its delete with it, and the context that
    // covered what the delete replaced: invariant 15 checks those stay
    // deleted.
    if (PurgedAway(in, w.key, dot)) continue;
    const bool superseded = std::any_of(
        in.history->ops.begin(), in.history->ops.end(),
        [&](const Op& later) { return later.key == w.key && Replaced(in, later, w.id, dot); });
    if (superseded && final_state.context.Covers(dot)) continue;
    if (in.lossy(w.key)) {
      ++out.lww_losses;  // by design in a last-writer-wins namespace: counted
      continue;
    }
    out.violations.push_back(
        {acked ? 1 : 2,
         absl::StrCat(acked ? "acknowledged" : "concurrent", " write #", w.id, " (dot ",
                      DotToString(dot), ") is gone and no write that read it replaced it"),
         LostWriteExcerpt(in, w, final_state)});
  }
}

// The dual of the above: a sibling some applied write has read and
// replaced must not come back once the replicas have converged.
void CheckNoResurrection(const CheckInput& in, CheckResult& out) {
  for (const auto& [key, state] : in.finals) {
    if (in.lossy(key)) continue;
    const Object final_state = MergedFinal(state);
    for (const Sibling& s : final_state.siblings) {
      ++out.checks[6];
      auto seen = in.recorder->op_of_dot.find(s.dot);
      if (seen == in.recorder->op_of_dot.end()) continue;
      for (const Op& w : in.history->ops) {
        if (w.key != key || !Replaced(in, w, seen->second, s.dot)) continue;
        if (Destroyed(in, w)) continue;  // the write that replaced it is gone too
        out.violations.push_back({6,
                                  absl::StrCat("sibling ", DotToString(s.dot), " of ", key,
                                               " is back although write #", w.id, " replaced it"),
                                  LostWriteExcerpt(in, w, final_state)});
        break;
      }
    }
  }
}

void CheckDurability(const CheckInput& in, CheckResult& out) {
  for (const Op& w : in.history->ops) {
    if (!w.is_write() || w.outcome != Outcome::kOk || w.durable_copies < 0) continue;
    // A fault that lost data between the acks and the client's receipt of
    // the reply may have taken a copy.
    if (in.history->DataLossBetween(w.invoke_ms, w.complete_ms)) continue;
    ++out.checks[7];
    // So may a hint dropped for age in that window (a write merged into a
    // hint lives no longer than the hint's creation allows: failures.md,
    // "Bounds"): the fallback held it when it acked.
    if (static_cast<uint32_t>(w.durable_copies + w.expired_copies) < w.quorum) {
      out.violations.push_back({7,
                                absl::StrCat("write #", w.id, " was acknowledged with W=", w.quorum,
                                             " but only ", w.durable_copies, " nodes held it"),
                                {DescribeOp(w)}});
      continue;
    }
    // Handoff moves copies and never drops one; a fault, or a hint dropped
    // for age, may.
    auto lost = in.recorder->lost_copies.find(w.key);
    if (w.dot && lost != in.recorder->lost_copies.end() && lost->second.Covers(*w.dot)) continue;
    if (w.dot && PurgedAway(in, w.key, *w.dot)) continue;
    if (w.healed_copies >= 0 && static_cast<uint32_t>(w.healed_copies) < w.quorum) {
      out.violations.push_back(
          {7,
           absl::StrCat("write #", w.id, " (W=", w.quorum, ") was held by only ", w.healed_copies,
                        " nodes after heal and handoff"),
           {DescribeOp(w)}});
    }
  }
}

void CheckConvergence(const CheckInput& in, CheckResult& out) {
  for (const auto& [key, state] : in.finals) {
    ++out.checks[5];
    const Object first = WithoutPurged(in, key, state.replicas[0]);
    for (size_t i = 1; i < state.replicas.size(); ++i) {
      if (WithoutPurged(in, key, state.replicas[i]) == first) continue;
      out.violations.push_back(
          {5,
           absl::StrCat("replicas of ", key,
                        " differ after heal, handoff and a round of anti-entropy on every node: ",
                        state.home[0], " has ", ObjectText(state.replicas[0]), ", ", state.home[i],
                        " has ", ObjectText(state.replicas[i])),
           {}});
      break;
    }
  }
}

}  // namespace

std::optional<Dot> DotOf(const CheckInput& in, const Op& op) {
  if (op.dot) return op.dot;
  auto it = in.recorder->dot_of_op.find(op.id);
  if (it != in.recorder->dot_of_op.end()) return it->second;
  return std::nullopt;
}

bool Applied(const CheckInput& in, const Op& op) {
  std::optional<Dot> dot = DotOf(in, op);
  return dot && in.recorder->stored.count(*dot) > 0;
}

bool Replaced(const CheckInput& in, const Op& later, int earlier_id, const Dot& dot) {
  return later.is_write() && later.observed.count(earlier_id) > 0 && later.context.Covers(dot) &&
         Applied(in, later);
}

bool Destroyed(const CheckInput& in, const Op& op) {
  std::optional<Dot> dot = DotOf(in, op);
  return dot && in.destroyed.count(*dot) > 0;
}

bool PurgedAway(const CheckInput& in, const std::string& key, const Dot& dot, double by_ms) {
  auto it = in.recorder->purges.find(key);
  if (it == in.recorder->purges.end()) return false;
  return std::any_of(it->second.begin(), it->second.end(), [&](const Recorder::Purge& p) {
    return p.at_ms <= by_ms && p.context.Covers(dot);
  });
}

Object WithoutPurged(const CheckInput& in, const std::string& key, const Object& object) {
  if (!TombstoneTime(object)) return object;
  for (const Sibling& s : object.siblings) {
    if (!PurgedAway(in, key, s.dot)) return object;
  }
  return Object();
}

Object MergedFinal(const FinalKeyState& state) {
  Object merged;
  for (const Object& o : state.replicas) merged = Sync(merged, o);
  return merged;
}

std::string ObjectText(const Object& o) {
  std::string text = absl::StrCat("ctx", VersionVectorToString(o.context), " [");
  for (const Sibling& s : o.siblings) {
    absl::StrAppend(&text, s.tombstone ? "<tombstone>" : absl::StrCat("\"", s.value, "\""), "@",
                    DotToString(s.dot), " ");
  }
  return absl::StrCat(text, "]");
}

std::vector<std::string> Excerpt(const CheckInput& in, const std::string& key, double from_ms,
                                 double to_ms, const std::function<bool(const Op&)>& keep,
                                 const Object& final_state) {
  std::vector<std::pair<double, std::string>> lines;
  for (const Op& op : in.history->ops) {
    if (op.key == key && keep(op)) lines.emplace_back(op.invoke_ms, DescribeOp(op));
  }
  for (const FaultEvent& f : in.history->faults) {
    if (f.at_ms >= from_ms && f.at_ms <= to_ms) {
      lines.emplace_back(f.at_ms, absl::StrFormat("   fault @%.1fms: %s", f.at_ms, f.what));
    }
  }
  std::stable_sort(lines.begin(), lines.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (const auto& [at, line] : lines) {
    if (out.size() == kExcerptLines) {
      out.push_back(absl::StrCat("... (", lines.size() - kExcerptLines, " more)"));
      break;
    }
    out.push_back(line);
  }
  out.push_back(absl::StrCat("final state of ", key, ": ", ObjectText(final_state)));
  return out;
}

const char* InvariantName(int invariant) {
  switch (invariant) {
    case 1:
      return "no acknowledged write is lost";
    case 2:
      return "concurrent writes are never silently dropped";
    case 3:
      return "a read reflects every write its overlap claim covers";
    case 4:
      return "dot counters never go backwards";
    case 5:
      return "replicas converge by anti-entropy once the network heals";
    case 6:
      return "a replaced sibling never comes back";
    case 7:
      return "an acknowledged write is durable on W nodes, home or hinted fallback";
    case 8:
      return "after heal, every hint is delivered";
    case 9:
      return "a not-found comes only from replicas that hold nothing of the key";
    case 10:
      return "quorum metadata is what the network delivered";
    case 11:
      return "a forged context is refused and writes nothing";
    case 12:
      return "every hint dropped for age is counted durably";
    case 13:
      return "a write refused with \"nothing written\" wrote nothing";
    case 14:
      return "a node's Merkle trees equal its store";
    case 15:
      return "a deleted value never comes back to a strict read, purged or not";
    case 16:
      return "a session never reads below its own acked writes or what it already read";
    case 17:
      return "a reported staleness bound is never below the read's true staleness";
  }
  return "?";
}

CheckResult CheckInvariants(const CheckInput& in) {
  CheckResult out;
  CheckWritesSurvive(in, out);
  CheckNoResurrection(in, out);
  out.checks[4] += in.recorder->dots_checked;
  for (const std::string& v : in.recorder->dot_violations) out.violations.push_back({4, v, {}});
  CheckConvergence(in, out);
  CheckDurability(in, out);
  out.checks[8] += in.finals.size();
  for (const std::string& leftover : in.leftover_hints) out.violations.push_back({8, leftover, {}});
  CheckReplies(in, out);
  CheckSessions(in, out);
  CheckOutcomes(in, out);
  out.checks[14] += in.trees_checked;
  for (const std::string& m : in.tree_mismatches) out.violations.push_back({14, m, {}});
  return out;
}

}  // namespace quorumkv::sim
