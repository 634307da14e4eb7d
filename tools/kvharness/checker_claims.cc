// The checks of what replies claimed (checker.h): strict-reads-honest,
// session-guarantees and staleness-bounds-honest. Each compares a read's
// context with the acknowledged writes (and, for a session, the earlier
// reads) its claim covers.
#include "absl/strings/str_cat.h"
#include "tools/kvharness/checker_support.h"

namespace quorumkv {
namespace {

// The acknowledged writes of a key a read claims to reflect.
bool MustReflect(const Operation& read, const Operation& write) {
  if (write.complete_us < 0 || write.complete_us >= read.invoke_us) return false;
  const SeenQuorum& q = *read.quorum;
  if (q.strict_overlap) return true;
  return q.covers_w > 0 && write.quorum && write.quorum->home_acks >= q.covers_w;
}

}  // namespace

CheckResult CheckStrictReads(const std::map<std::string, KeyOps>& keys) {
  CheckResult r{.name = "strict-reads-honest"};
  int64_t strict = 0, not_found = 0, claims = 0;
  size_t total = 0;
  for (const auto& [key, k] : keys) {
    for (const Operation* read : k.reads) {
      if (!read->quorum) continue;
      if (read->quorum->strict_overlap) {
        ++strict;
        if (!read->found) ++not_found;
      }
      for (const Operation* w : k.acked) {
        if (!MustReflect(*read, *w)) continue;
        ++claims;
        if (read->read_context.Covers(*w->dot)) continue;
        ++total;
        AddProblem(
            &r,
            absl::StrCat(Describe(*read), read->found ? "" : " (found:false)", " claimed ",
                         read->quorum->strict_overlap
                             ? std::string("strict_overlap")
                             : absl::StrCat("covers_w ", read->quorum->covers_w),
                         " but does not reflect ", Describe(*w), ", acknowledged on ",
                         w->quorum ? w->quorum->home_acks : 0, " home replicas before it began"),
            {read->id, w->id});
      }
    }
  }
  r.summary = absl::StrCat(strict, " strict reads (", not_found, " found:false), ", claims,
                           " claims that a read reflects an earlier write: ", total, " false");
  CapProblems(&r, total);
  return r;
}

// A session read reflects (its context covers) every write its session had
// acknowledged for the key before it began, and every context the session
// read of it before.
CheckResult CheckSessions(const History& history, const std::map<std::string, KeyOps>& keys) {
  CheckResult r{.name = "session-guarantees"};
  int64_t reads = 0, escalated = 0, refused = 0, claims = 0;
  size_t total = 0;
  for (const Operation& op : history.operations) {
    if (op.kind != OpKind::kRead || !op.session) continue;
    ++reads;
    escalated += op.session_reads > 1;
    refused +=
        op.outcome == Outcome::kFail && op.error.find("not satisfiable") != std::string::npos;
  }
  for (const auto& [key, k] : keys) {
    for (const Operation* read : k.reads) {
      if (!read->session) continue;
      auto before = [&](const Operation* op) {
        return op->session && op->client == read->client && op->id != read->id &&
               op->complete_us >= 0 && op->complete_us < read->invoke_us;
      };
      for (const Operation* w : k.acked) {
        if (!before(w)) continue;
        ++claims;
        if (read->read_context.Covers(*w->dot)) continue;
        ++total;
        AddProblem(&r,
                   absl::StrCat(Describe(*read), " does not reflect its session's own ",
                                Describe(*w), " (dot ", DotToString(*w->dot), ")"),
                   {w->id, read->id});
      }
      for (const Operation* earlier : k.reads) {
        if (!before(earlier)) continue;
        ++claims;
        if (read->read_context.Descends(earlier->read_context)) continue;
        ++total;
        AddProblem(&r,
                   absl::StrCat(Describe(*read), " is older than its session's earlier ",
                                Describe(*earlier)),
                   {earlier->id, read->id});
      }
    }
  }
  r.summary = absl::StrCat(reads, " session reads (", escalated, " escalated, ", refused,
                           " refused as not satisfiable), ", claims,
                           " claims that one reflects the session's past: ", total, " false");
  CapProblems(&r, total);
  return r;
}

// A read reporting staleness_bound_ms = B reflects every write acknowledged
// at least B before it began.
CheckResult CheckStalenessBounds(const std::map<std::string, KeyOps>& keys) {
  CheckResult r{.name = "staleness-bounds-honest"};
  int64_t bounded = 0, by_watermark = 0, claims = 0;
  size_t total = 0;
  for (const auto& [key, k] : keys) {
    for (const Operation* read : k.reads) {
      if (!read->quorum || !read->quorum->staleness_bound_ms) continue;
      ++bounded;
      by_watermark += *read->quorum->staleness_bound_ms > 0;
      const int64_t bound_us = *read->quorum->staleness_bound_ms * 1000;
      for (const Operation* w : k.acked) {
        if (w->complete_us < 0 || w->complete_us > read->invoke_us - bound_us) continue;
        ++claims;
        if (read->read_context.Covers(*w->dot)) continue;
        ++total;
        AddProblem(&r,
                   absl::StrCat(Describe(*read), " reported a staleness bound of ",
                                *read->quorum->staleness_bound_ms, " ms but does not reflect ",
                                Describe(*w), ", acknowledged ",
                                (read->invoke_us - w->complete_us) / 1000, " ms before it began"),
                   {w->id, read->id});
      }
    }
  }
  r.summary = absl::StrCat(bounded, " reads with a proven staleness bound (", by_watermark,
                           " above 0, from a freshness watermark), ", claims,
                           " claims that one reflects an earlier write: ", total, " false");
  CapProblems(&r, total);
  return r;
}

}  // namespace quorumkv
