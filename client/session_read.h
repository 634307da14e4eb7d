// How a read in a session escalates, as a state machine with no I/O: the
// same ladder runs in KvClient (over gRPC) and in the simulator.
//
// A reply is taken when it satisfies the session (session.h: it reflects
// the session's writes and what it already read) and, if asked, bounded
// staleness: the node's proven staleness_bound_ms is known and at most
// max_staleness. Otherwise the next rung is tried:
//   1. the read as asked (R, strict), through the client's usual node;
//   2. R=N through a node that coordinated one of the session's writes of
//      the key (it holds them) if any, else the usual node: every home
//      replica is asked, and in a sloppy read a fallback holding hints
//      stands in for one that cannot answer;
//   3. R=1 through each home replica in turn, the writers first: each
//      answers with at least its own replica, so a writer cut off from the
//      others still serves its own writes (only while the best reply so far
//      still falls short of the session, not of staleness alone).
// When no rung satisfies: FAILED_PRECONDITION "read-your-writes not
// satisfiable: ..." (or "monotonic reads", "bounded staleness"), naming
// every read tried — never a reply that falls short, except one over the
// staleness bound that satisfies the session, when the request allows
// stale reads: returned with session.stale set.
// An error of the first read is the outcome (the read failed; escalation
// is for replies that arrived and fell short).
//
// A value type; not thread-safe. Holds a pointer to the session, which
// must outlive it and not change meanwhile.
#ifndef QUORUMKV_CLIENT_SESSION_READ_H_
#define QUORUMKV_CLIENT_SESSION_READ_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/session.h"
#include "proto/kv.pb.h"

namespace quorumkv {

struct SessionReadOptions {
  uint32_t r = 0;  // 0: the cluster's default R
  bool strict = false;
  // Bounded staleness: the reply must reflect every write acknowledged at
  // least this long before the read began. Absent: not asked.
  std::optional<absl::Duration> max_staleness;
  // Return a reply over max_staleness flagged stale, rather than fail.
  bool allow_stale = false;
};

struct ReadAttempt {
  std::string via;  // the node to send it to; empty: the client's usual routing
  uint32_t r = 0;
  bool strict = false;

  std::string Describe() const;  // "R=3 via n1"
};

class SessionRead {
 public:
  // `homes` returns the key's home replicas in ring order (their number is
  // N); it is called once, and only if the first reply falls short.
  using HomesFn = std::function<std::vector<std::string>()>;
  SessionRead(const Session* session, std::string key, SessionReadOptions options, HomesFn homes);

  // The read to send now. REQUIRES: !done().
  const ReadAttempt& next() const { return attempts_[current_]; }
  size_t attempt_index() const { return current_; }  // of next(): 0 for the read as asked
  // The outcome of next().
  void OnReply(absl::StatusOr<v1::GetResponse> reply);
  // The request's deadline passed before next() could be sent: the outcome
  // is DEADLINE_EXCEEDED, naming the reads tried (not a session failure:
  // with more time a rung might have satisfied it).
  void OnDeadline();
  bool done() const { return result_.has_value(); }
  // REQUIRES: done(). The reply taken (session info filled), or the error.
  const absl::StatusOr<v1::GetResponse>& result() const { return *result_; }
  absl::StatusOr<v1::GetResponse> TakeResult() && { return *std::move(result_); }
  // REQUIRES: result() is OK. The taken reply's context, decoded.
  const VersionVector& taken_context() const { return taken_context_; }

 private:
  // "" when `reply` (context decoded into *context) satisfies the
  // request, else what it lacks; *session_ok: it satisfies the session
  // (maybe not the staleness bound).
  std::string Shortfall(const v1::GetResponse& reply, VersionVector* context, bool* session_ok);
  void Take(v1::GetResponse reply, bool stale);
  // The key's home replicas that coordinated one of the session's writes
  // of it, in ring order.
  std::vector<std::string> WritingHomes() const;
  // Adds the R=N rung (once the first reply fell short).
  void AddAllHomesRung();
  // Adds the R=1 rungs through each home replica, writers first.
  void AddSingleReplicaRungs();
  void Fail();
  // Ends with `failure`, carrying the reads tried (SessionReadInfoOf).
  void FailWith(absl::Status failure);

  const Session* session_;
  std::string key_;
  SessionReadOptions options_;
  HomesFn homes_fn_;
  std::vector<std::string> homes_;  // from homes_fn_, once escalating
  std::vector<ReadAttempt> attempts_;
  size_t current_ = 0;
  bool single_replica_rungs_added_ = false;
  std::vector<std::string> tried_;  // each read that fell short, and why
  // The first reply that satisfied the session but not the staleness bound.
  std::optional<v1::GetResponse> stale_candidate_;
  VersionVector taken_context_;
  VersionVector stale_candidate_context_;
  bool lacked_writes_ = false;  // a reply lacked the session's own writes
  bool lacked_reads_ = false;   // a reply was older than one the session saw
  std::optional<absl::StatusOr<v1::GetResponse>> result_;
};

// True for the FAILED_PRECONDITION of a session guarantee not satisfiable
// (kvctl exits 6), as opposed to one of the store (too many siblings).
bool IsSessionGuaranteeFailure(const absl::Status& status);
// The reads a session read that failed (not satisfiable, or out of time
// while escalating) tried, and why each fell short.
std::optional<v1::SessionReadInfo> SessionReadInfoOf(const absl::Status& status);

}  // namespace quorumkv

#endif  // QUORUMKV_CLIENT_SESSION_READ_H_
