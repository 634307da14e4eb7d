// The coordinator of a get as a state machine with no I/O.
//
// It asks every home replica (the coordinator's own replica included, read
// by the driver and fed in like any reply) — in a sloppy get, a healthy
// fallback stands in for a home replica that is unhealthy or fails, and
// answers with the hints it holds of the key — merges what comes back, and
// decides once R slots answered or can no longer. A home replica's
// not-found counts toward R; a fallback's does not (it holds no hint, and
// knows nothing of the key): its slot moves to the next fallback. Replies
// that arrive after the decision still join the merge, so the driver can
// repair every home replica that lacks something.
#ifndef QUORUMKV_REPLICATION_GET_COORDINATOR_H_
#define QUORUMKV_REPLICATION_GET_COORDINATOR_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "replication/object.h"
#include "replication/quorum_slots.h"

namespace quorumkv {

struct GetPlan {
  std::string key;
  std::string self;
  PreferenceList pref;  // the key's home replicas and fallbacks
  uint32_t r = 0;
  // Home replicas every acknowledged write of the key is on, at least (its
  // namespace's min_w): what the strict-overlap claim rests on.
  uint32_t min_w = 1;
  MergePolicy policy = MergePolicy::kSiblings;
  bool sloppy = false;
  // Ask every home replica at once, not R first (config read_all_replicas).
  bool read_all = true;
  QuorumSlots::Healthy healthy = [](const std::string&) { return true; };
  absl::Time start;
};

// What a home replica says of its answer, besides the object.
struct ReplicaReadNotes {
  // It may lack writes it acknowledged (it lost some in a restart), so it
  // counts toward neither strict_overlap nor a staleness bound.
  bool may_lack_writes = false;
  // Its answer holds every write to the key acknowledged this long before
  // it read its replica (its freshness watermark, freshness.h).
  std::optional<absl::Duration> watermark_age;
};

// A value type; not thread-safe (the driver serializes calls).
class GetCoordinator {
 public:
  explicit GetCoordinator(GetPlan plan);

  // The reads to send; the coordinator's own slot (if it is a home replica)
  // is left for the driver to answer with OnReply(self, ...).
  std::vector<SlotSend> Start();

  // `reply` is the replica's object, nullopt when it has none, or an error;
  // `notes`, what a home replica said of it. May return a read to send to a
  // fallback standing in for a failed home.
  std::optional<SlotSend> OnReply(const std::string& from,
                                  const absl::StatusOr<std::optional<Object>>& reply,
                                  absl::Time now, const ReplicaReadNotes& notes = {});
  void OnDeadline();

  bool decided() const { return slots_.state() != QuorumState::kPending; }
  bool all_answered() const { return slots_.all_answered(); }
  // REQUIRES: decided(). OK iff R slots answered.
  absl::Status outcome() const;
  // The merge of every successful reply so far.
  const Object& merged() const { return merged_; }
  pb::QuorumInfo quorum() const;

  // Home replicas that answered with a state lacking something of merged():
  // the targets of a read repair. (Fallbacks hold hints; handoff serves them.)
  std::vector<std::string> StaleReplicas() const;

 private:
  // Sets strict_overlap, covers_w and overlap_note.
  void FillOverlap(pb::QuorumInfo* info) const;

  GetPlan plan_;
  QuorumSlots slots_;
  Object merged_;
  std::map<std::string, Object> home_states_;  // home replies; empty object = not found
  std::set<std::string> lacking_;              // home replies that may lack writes
  // The youngest watermark of the home replies that lack nothing.
  std::optional<absl::Duration> youngest_watermark_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_GET_COORDINATOR_H_
