// The coordinator of a get as a state machine with no I/O.
//
// It asks every home replica (the coordinator's own replica included, read
// by the driver and fed in like any reply), merges what comes back, and
// decides once R replicas answered (found or not: a not-found counts) or
// can no longer answer. Replies that arrive after the decision still join
// the merge, so the driver can repair every replica that lacks something.
#ifndef QUORUMKV_REPLICATION_GET_COORDINATOR_H_
#define QUORUMKV_REPLICATION_GET_COORDINATOR_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "replication/object.h"
#include "replication/reply_tally.h"

namespace quorumkv {

struct GetPlan {
  std::string key;
  std::string self;
  std::vector<std::string> home;  // the key's N home replicas
  uint32_t r = 0;
  uint32_t default_w = 0;  // for the strict-overlap flag of the reply
  MergePolicy policy = MergePolicy::kSiblings;
  absl::Time start;
};

// A value type; not thread-safe (the driver serializes calls).
class GetCoordinator {
 public:
  explicit GetCoordinator(GetPlan plan);

  // Every home replica, the coordinator included when it is one.
  const std::vector<std::string>& Targets() const { return plan_.home; }

  // `reply` is the replica's object, nullopt when it has none, or an error.
  void OnReply(const std::string& from, const absl::StatusOr<std::optional<Object>>& reply,
               absl::Time now);
  void OnDeadline();

  bool decided() const { return tally_.state() != QuorumState::kPending; }
  bool all_answered() const { return tally_.all_answered(); }
  // REQUIRES: decided(). OK iff R replicas answered.
  absl::Status outcome() const;
  // The merge of every successful reply so far.
  const Object& merged() const { return merged_; }
  pb::QuorumInfo quorum() const;

  // Replicas that answered with a state lacking something of merged():
  // the targets of a read repair.
  std::vector<std::string> StaleReplicas() const;

 private:
  GetPlan plan_;
  ReplyTally tally_;
  Object merged_;
  std::map<std::string, Object> states_;  // successful replies; empty object = not found
};

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_GET_COORDINATOR_H_
