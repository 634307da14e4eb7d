// The coordinator of a put (or delete) as a state machine with no I/O.
//
// The coordinating home replica has already applied the write to its own
// replica (durably: that is its ack) when the coordinator is built. The
// coordinator then asks the other home replicas to merge the new object —
// in a sloppy put, a healthy fallback stands in for a home replica that is
// unhealthy or fails, storing a hint — and is fed their replies and, if the
// driver has a timer, the deadline. It decides as soon as W slots acked,
// min_w of them home replicas (success), or can no longer (UNAVAILABLE, or
// DEADLINE_EXCEEDED when a replica's outcome is unknown).
#ifndef QUORUMKV_REPLICATION_PUT_COORDINATOR_H_
#define QUORUMKV_REPLICATION_PUT_COORDINATOR_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "proto/replica.pb.h"
#include "replication/object.h"
#include "replication/quorum_slots.h"

namespace quorumkv {

struct PutPlan {
  std::string key;
  std::string self;     // the coordinator: a home replica
  PreferenceList pref;  // the key's home replicas and fallbacks
  uint32_t w = 0;
  uint32_t min_w = 1;      // of the W acks, how many home replicas must give
  uint32_t default_r = 0;  // for the strict-overlap flag of the reply
  bool sloppy = false;
  QuorumSlots::Healthy healthy = [](const std::string&) { return true; };
  Object stored;  // the coordinator's new state of the key
  absl::Time start;
};

// A value type; not thread-safe (the driver serializes calls).
class PutCoordinator {
 public:
  explicit PutCoordinator(PutPlan plan);

  // The writes to send: request() to each, with hinted_for set as given.
  std::vector<SlotSend> Start();
  const pb::ReplicaWriteRequest& request() const { return request_; }

  // Replies from nodes no slot waits on are ignored. May return a write to
  // send to a fallback standing in for a failed home replica.
  std::optional<SlotSend> OnReply(const std::string& from, const absl::Status& status,
                                  absl::Time now);
  // The deadline passed: replicas that have not answered count as unknown.
  void OnDeadline();

  bool decided() const { return slots_.state() != QuorumState::kPending; }
  // REQUIRES: decided().
  absl::Status outcome() const;
  pb::QuorumInfo quorum() const;

 private:
  PutPlan plan_;
  pb::ReplicaWriteRequest request_;
  QuorumSlots slots_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_PUT_COORDINATOR_H_
