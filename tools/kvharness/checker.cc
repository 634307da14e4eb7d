#include "tools/kvharness/checker.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/kvharness/checker_support.h"

namespace quorumkv {

std::string Describe(const Operation& op) {
  std::string what =
      op.kind == OpKind::kWrite ? absl::StrCat("write '", op.value, "'") : OpKindName(op.kind);
  return absl::StrFormat("op %d (client %d %s of %s at %.3f s, %s)", op.id, op.client, what, op.key,
                         op.invoke_us / 1e6, OutcomeName(op.outcome));
}

void AddProblem(CheckResult* r, const std::string& problem, std::vector<int64_t> ops) {
  constexpr size_t kMaxProblems = 20;  // a report stays readable
  r->passed = false;
  if (r->problems.size() < kMaxProblems) r->problems.push_back(problem);
  r->ops.insert(r->ops.end(), ops.begin(), ops.end());
}

void CapProblems(CheckResult* r, size_t total) {
  if (total > r->problems.size()) {
    r->problems.push_back(absl::StrCat("... and ", total - r->problems.size(), " more"));
  }
}

namespace {

bool IsWrite(const Operation& op) { return op.kind != OpKind::kRead; }

// The writes of `k` a read's sibling `s` may be from: the one acknowledged
// with its dot, or the one that wrote its value; a tombstone of no
// acknowledged delete, any delete of unknown outcome.
std::vector<const Operation*> WritersOf(const KeyOps& k, const SeenSibling& s) {
  if (auto it = k.writer_by_dot.find(s.dot); it != k.writer_by_dot.end()) return {it->second};
  if (auto it = k.writer_by_idempotency_key.find(s.idempotency_key);
      !s.idempotency_key.empty() && it != k.writer_by_idempotency_key.end()) {
    return {it->second};
  }
  if (s.tombstone) return k.unknown_deletes;
  if (auto it = k.writer_by_value.find(s.value); it != k.writer_by_value.end()) {
    return {it->second};
  }
  return {};
}

void LinkWhoSawWhat(KeyOps* k, const std::vector<const Operation*>& by_id) {
  for (const Operation* w : k->writes) {
    if (w->dot) k->writer_by_dot[*w->dot] = w;
    if (w->kind == OpKind::kWrite) k->writer_by_value[w->value] = w;
    if (!w->idempotency_key.empty()) k->writer_by_idempotency_key[w->idempotency_key] = w;
    if (w->kind == OpKind::kDelete && !w->dot) k->unknown_deletes.push_back(w);
  }
  std::map<int, const Operation*> context_source;  // by client: where its context came from
  for (const Operation* op : by_id) {
    if (IsWrite(*op)) {
      auto it = context_source.find(op->client);
      if (it != context_source.end()) k->seen_by[it->second->id].push_back(op);
    } else if (op->outcome == Outcome::kOk) {
      for (const SeenSibling& s : op->siblings) {
        for (const Operation* w : WritersOf(*k, s)) k->seen_by[w->id].push_back(op);
      }
    }
    if (op->outcome == Outcome::kOk) context_source[op->client] = op;
  }
}

std::map<std::string, KeyOps> IndexByKey(const History& history) {
  std::map<std::string, KeyOps> keys;
  std::map<std::string, std::vector<const Operation*>> by_key;
  for (const Operation& op : history.operations) {
    KeyOps& k = keys[op.key];
    by_key[op.key].push_back(&op);
    if (IsWrite(op)) {
      if (op.outcome != Outcome::kFail) k.writes.push_back(&op);
      if (op.outcome == Outcome::kOk && op.dot) k.acked.push_back(&op);
    } else if (op.outcome == Outcome::kOk) {
      k.reads.push_back(&op);
      if (op.client < 0 && (k.final_state == nullptr || op.id > k.final_state->id)) {
        k.final_state = &op;
      }
    }
  }
  for (auto& [key, k] : keys) LinkWhoSawWhat(&k, by_key[key]);
  return keys;
}

// A write of `k` that read `written` (it is reachable from it) and whose
// context covers `dot`, written's, if any; with `acked_only`, an acknowledged one.
// The context alone is not enough: a store that merges clocks but drops a
// value would have its readers' contexts cover a value nobody read.
const Operation* Replacer(const KeyOps& k, const Operation& written, const Dot& dot,
                          bool acked_only) {
  std::set<int64_t> visited = {written.id};
  std::vector<const Operation*> frontier = {&written};
  while (!frontier.empty()) {
    const Operation* op = frontier.back();
    frontier.pop_back();
    auto it = k.seen_by.find(op->id);
    if (it == k.seen_by.end()) continue;
    for (const Operation* next : it->second) {
      if (!visited.insert(next->id).second) continue;
      frontier.push_back(next);
      if (!IsWrite(*next) || next->outcome == Outcome::kFail) continue;
      if (acked_only && next->outcome != Outcome::kOk) continue;
      if (next->context.Covers(dot)) return next;
    }
  }
  return nullptr;
}

// Whether `s` is `write` as acknowledged, or a copy of it (a retry applied
// by a second coordinator: same idempotency key and value, another dot).
bool IsOf(const SeenSibling& s, const Operation& write) {
  if (write.dot && s.dot == *write.dot) return true;
  return !write.idempotency_key.empty() && s.idempotency_key == write.idempotency_key &&
         s.tombstone == (write.kind == OpKind::kDelete) && (s.tombstone || s.value == write.value);
}

bool InFinalState(const KeyOps& k, const Operation& write) {
  if (k.final_state == nullptr) return false;
  for (const SeenSibling& s : k.final_state->siblings) {
    if (IsOf(s, write)) return true;
  }
  return false;
}

// The acknowledged writes of `k` that nothing replaced.
std::vector<const Operation*> Unreplaced(const KeyOps& k) {
  std::vector<const Operation*> out;
  for (const Operation* w : k.acked) {
    if (Replacer(k, *w, *w->dot, /*acked_only=*/false) == nullptr) out.push_back(w);
  }
  return out;
}

// acked-writes-survive (or, LWW, lww-losses-counted) and siblings-kept.
std::vector<CheckResult> CheckAckedWrites(const std::map<std::string, KeyOps>& keys, bool lww) {
  CheckResult survive{.name = lww ? "lww-losses-counted" : "acked-writes-survive"};
  CheckResult siblings{.name = "siblings-kept"};
  int64_t acked = 0, replaced = 0, lost = 0, concurrent_keys = 0, concurrent_writes = 0;
  size_t siblings_lost = 0;
  for (const auto& [key, k] : keys) {
    if (k.final_state == nullptr) continue;  // converged reports it
    acked += static_cast<int64_t>(k.acked.size());
    const std::vector<const Operation*> unreplaced = Unreplaced(k);
    replaced += static_cast<int64_t>(k.acked.size() - unreplaced.size());
    const bool concurrent = unreplaced.size() > 1;
    if (concurrent) {
      ++concurrent_keys;
      concurrent_writes += static_cast<int64_t>(unreplaced.size());
    }
    for (const Operation* w : unreplaced) {
      if (InFinalState(k, *w)) continue;
      ++lost;
      const std::string problem = absl::StrCat(
          Describe(*w), ", acknowledged with dot ", DotToString(*w->dot),
          ", is neither in the final state of ", key, " (op ", k.final_state->id,
          ") nor replaced by a write that read it",
          concurrent ? absl::StrCat(" (one of ", unreplaced.size(), " concurrent writes)") : "");
      AddProblem(&survive, problem, {w->id, k.final_state->id});
      if (concurrent && !lww) {
        ++siblings_lost;
        AddProblem(&siblings, problem, {w->id, k.final_state->id});
      }
    }
  }
  survive.summary = absl::StrCat(acked, " acknowledged writes: ", replaced,
                                 " replaced by a write that read them, ", acked - replaced - lost,
                                 " in the final state, ", lost, " lost");
  CapProblems(&survive, static_cast<size_t>(lost));
  if (lww) {
    // Losing concurrent writes is what last-writer-wins does: count, show, pass.
    survive.passed = true;
    survive.summary += " to last-writer-wins (by design: one value per key survives, by timestamp)";
    siblings.summary = "not checked: the keys are last-writer-wins";
    return {survive, siblings};
  }
  siblings.summary =
      absl::StrCat(concurrent_keys, " keys ended with concurrent acknowledged writes (",
                   concurrent_writes, " writes): ", siblings_lost, " missing from their siblings");
  CapProblems(&siblings, siblings_lost);
  return {survive, siblings};
}

CheckResult CheckSupersededStayGone(const std::map<std::string, KeyOps>& keys, bool lww) {
  CheckResult r{.name = "superseded-stay-gone"};
  int64_t checked = 0;
  size_t total = 0;
  for (const auto& [key, k] : keys) {
    if (k.final_state == nullptr) continue;
    for (const SeenSibling& s : k.final_state->siblings) {
      ++checked;
      const std::vector<const Operation*> writers = WritersOf(k, s);
      const Operation* replacer = nullptr;
      for (const Operation* w : writers) {
        if (replacer == nullptr) replacer = Replacer(k, *w, s.dot, /*acked_only=*/true);
      }
      if (replacer == nullptr) continue;
      ++total;
      AddProblem(
          &r,
          absl::StrCat("'", s.value, "' (dot ", DotToString(s.dot), ") is in the final state of ",
                       key, " although ", Describe(*replacer), " read and replaced it"),
          {replacer->id, k.final_state->id});
    }
  }
  r.summary = absl::StrCat(checked, " final siblings: ", total, " came back after being replaced");
  if (lww) {
    // A replacing write with an older timestamp loses to what it replaced.
    r.passed = true;
    r.summary +=
        " (last-writer-wins: counted, by design, when the replacing write's clock was behind)";
  }
  CapProblems(&r, total);
  return r;
}

CheckResult CheckNoPhantoms(const std::map<std::string, KeyOps>& keys) {
  CheckResult r{.name = "no-phantom-values"};
  int64_t checked = 0;
  size_t total = 0;
  for (const auto& [key, k] : keys) {
    std::map<std::string, const Operation*> writes_by_value;
    for (const Operation* w : k.writes) {
      if (w->kind == OpKind::kWrite) writes_by_value[w->value] = w;
    }
    for (const Operation* read : k.reads) {
      for (const SeenSibling& s : read->siblings) {
        if (s.tombstone) continue;
        ++checked;
        auto it = writes_by_value.find(s.value);
        if (it == writes_by_value.end()) {
          ++total;
          AddProblem(&r,
                     absl::StrCat(Describe(*read), " saw '", s.value, "' (dot ", DotToString(s.dot),
                                  "), which no write of ", key, " wrote"),
                     {read->id});
        } else if (it->second->dot && !IsOf(s, *it->second)) {
          ++total;
          AddProblem(&r,
                     absl::StrCat(Describe(*read), " saw '", s.value, "' with dot ",
                                  DotToString(s.dot), ", but ", Describe(*it->second),
                                  " was acknowledged with dot ", DotToString(*it->second->dot)),
                     {read->id, it->second->id});
        }
      }
    }
  }
  r.summary = absl::StrCat(checked, " values read: ", total, " not written as read");
  CapProblems(&r, total);
  return r;
}

CheckResult CheckConverged(const std::map<std::string, KeyOps>& keys, const Convergence& c) {
  CheckResult r{.name = "converged"};
  std::vector<std::string> unread;
  for (const auto& [key, k] : keys) {
    if (k.final_state == nullptr) unread.push_back(key);
  }
  if (!c.reached) {
    AddProblem(&r, absl::StrCat("not converged within ", c.bound_us / 1000, " ms: ", c.detail), {});
  } else if (c.took_us > c.bound_us) {
    AddProblem(&r,
               absl::StrCat("took ", c.took_us / 1000, " ms, over the bound of ", c.bound_us / 1000,
                            " ms"),
               {});
  }
  if (!unread.empty()) {
    AddProblem(&r,
               absl::StrCat(unread.size(),
                            " keys have no final state (their final reads "
                            "failed), e.g. ",
                            unread.front()),
               {});
  }
  r.summary = c.reached ? absl::StrCat("hints drained and replicas agreed ", c.took_us / 1000,
                                       " ms after the heal (bound ", c.bound_us / 1000, " ms)")
                        : "did not converge";
  return r;
}

CheckResult CheckEnoughOperations(const History& history, const CheckOptions& options) {
  CheckResult r{.name = "enough-operations"};
  int64_t writes = 0, reads = 0, failed = 0, unknown = 0;
  for (const Operation& op : history.operations) {
    if (op.client < 0) continue;
    if (op.outcome == Outcome::kFail) ++failed;
    if (op.outcome == Outcome::kInfo) ++unknown;
    if (op.outcome != Outcome::kOk) continue;
    (IsWrite(op) ? writes : reads) += 1;
  }
  r.summary = absl::StrCat(writes, " writes acknowledged, ", reads, " reads ok, ", failed,
                           " failed, ", unknown, " of unknown outcome");
  if (writes < options.min_acked_writes || reads < options.min_ok_reads) {
    AddProblem(&r,
               absl::StrCat("the run needs at least ", options.min_acked_writes,
                            " acknowledged writes and ", options.min_ok_reads,
                            " ok reads for its checks to mean something"),
               {});
  }
  return r;
}

}  // namespace

std::vector<CheckResult> CheckHistory(const History& history, const CheckOptions& options) {
  const std::map<std::string, KeyOps> keys = IndexByKey(history);
  std::vector<CheckResult> results = CheckAckedWrites(keys, options.lww);
  results.push_back(CheckSupersededStayGone(keys, options.lww));
  results.push_back(CheckNoPhantoms(keys));
  results.push_back(CheckStrictReads(keys));
  results.push_back(CheckSessions(history, keys));
  results.push_back(CheckStalenessBounds(keys));
  results.push_back(CheckConverged(keys, options.convergence));
  results.push_back(CheckEnoughOperations(history, options));
  return results;
}

}  // namespace quorumkv
