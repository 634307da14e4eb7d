// The coordinator of a put (or delete) as a state machine with no I/O.
//
// The coordinating home replica has already applied the write to its own
// replica (durably: that is its ack) when the coordinator is built. The
// coordinator then asks the other home replicas to merge the new object,
// and is fed their replies and, if the driver has a timer, the deadline. It
// decides as soon as W acks are in (success) or can no longer come
// (UNAVAILABLE, or DEADLINE_EXCEEDED when a replica's outcome is unknown).
#ifndef QUORUMKV_REPLICATION_PUT_COORDINATOR_H_
#define QUORUMKV_REPLICATION_PUT_COORDINATOR_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "proto/replica.pb.h"
#include "replication/object.h"
#include "replication/reply_tally.h"

namespace quorumkv {

struct PutPlan {
  std::string key;
  std::string self;               // the coordinator: a home replica
  std::vector<std::string> home;  // the key's N home replicas
  uint32_t w = 0;
  uint32_t default_r = 0;  // for the strict-overlap flag of the reply
  Object stored;           // the coordinator's new state of the key
  absl::Time start;
};

// A value type; not thread-safe (the driver serializes calls).
class PutCoordinator {
 public:
  explicit PutCoordinator(PutPlan plan);

  // Home replicas to send request() to: all but the coordinator.
  std::vector<std::string> Targets() const;
  const pb::ReplicaWriteRequest& request() const { return request_; }

  // Replies from unknown or already-answered replicas are ignored.
  void OnReply(const std::string& from, const absl::Status& status, absl::Time now);
  // The deadline passed: replicas that have not answered count as unknown.
  void OnDeadline();

  bool decided() const { return tally_.state() != QuorumState::kPending; }
  // REQUIRES: decided().
  absl::Status outcome() const;
  pb::QuorumInfo quorum() const;

 private:
  PutPlan plan_;
  pb::ReplicaWriteRequest request_;
  ReplyTally tally_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_PUT_COORDINATOR_H_
