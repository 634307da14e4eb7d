// Bookkeeping shared by the coordinators: which replicas were asked, which
// answered, which failed and how, and the honest error when a quorum is
// missed.
#ifndef QUORUMKV_REPLICATION_REPLY_TALLY_H_
#define QUORUMKV_REPLICATION_REPLY_TALLY_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "proto/kv.pb.h"
#include "replication/quorum.h"

namespace quorumkv {

namespace pb = ::quorumkv::v1;

// A value type; not thread-safe.
class ReplyTally {
 public:
  // `targets` are the replicas asked; `required` is R or W.
  ReplyTally(std::vector<std::string> targets, uint32_t required, absl::Time start);

  // Each returns false and changes nothing if `node` was not asked or has
  // answered already (a duplicate delivery).
  bool RecordSuccess(const std::string& node, absl::Time at);
  bool RecordFailure(const std::string& node, const absl::Status& status);
  // Marks every replica that has not answered as timed out.
  void ExpirePending();

  QuorumState state() const;
  bool all_answered() const;
  uint32_t successes() const { return successes_; }
  uint32_t required() const { return required_; }
  const std::vector<std::string>& targets() const { return targets_; }
  bool succeeded(const std::string& node) const;

  // The failure of a missed quorum. For a write, DEADLINE_EXCEEDED
  // ("outcome unknown") when some replica's failure leaves its outcome
  // unknown (a timeout, a cancelled call, a connection broken mid-call); for
  // a read, only when some replica timed out. Otherwise UNAVAILABLE ("quorum
  // not met: got 1 of W=2 acks"), also when definite failures alone made the
  // quorum impossible before every replica answered. `noun` is "acks" or
  // "replies", `param` "W" or "R"; `note` is appended.
  enum class Kind { kRead, kWrite };
  absl::Status QuorumError(Kind kind, absl::string_view noun, absl::string_view param,
                           absl::string_view note) const;

  // Sets required, replied (with latencies) and failed.
  void FillQuorumInfo(pb::QuorumInfo* info) const;

 private:
  struct Answer {
    std::string node;
    bool done = false;
    bool ok = false;
    absl::Duration latency;
    absl::Status status;
  };
  Answer* Find(const std::string& node);
  const Answer* Find(const std::string& node) const;

  std::vector<std::string> targets_;
  std::vector<Answer> answers_;             // one per target, in target order
  std::vector<std::string> success_order_;  // nodes in the order they succeeded
  uint32_t required_;
  absl::Time start_;
  uint32_t successes_ = 0;
  uint32_t failures_ = 0;
};

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_REPLY_TALLY_H_
