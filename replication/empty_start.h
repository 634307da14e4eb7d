// Whether a node that started on an empty data directory is new to the
// cluster, or lost its data (a wiped or replaced disk).
//
// Its own disk cannot tell: both look the same, but for the fresh actor a
// new directory gets. Its peers can. Every node records, durably, the
// actors of other nodes it has seen holding data (pings say whether the
// sender holds any, and under which actor), and answers each ping with
// whether it has seen the pinger's node holding data under another actor
// than the one it pings with. A node that started empty asks every peer
// that way, and keeps asking across restarts until settled: one yes, and it
// lost its data — it marks every partition for repair, so that its replies
// stop counting toward a read's strict overlap; a no from every peer (a
// peer's first answer counts), and it is new. Until then it may lack
// writes, and says so.
#ifndef QUORUMKV_REPLICATION_EMPTY_START_H_
#define QUORUMKV_REPLICATION_EMPTY_START_H_

#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace quorumkv {

// Thread-safe.
class EmptyStartCheck {
 public:
  // `started_empty`: the store opened an empty directory. `peers`: every
  // other node of the cluster.
  EmptyStartCheck(bool started_empty, const std::vector<std::string>& peers);

  // A peer answered a ping: whether it has seen this node holding data.
  void OnPeerAnswer(const std::string& peer, bool saw_this_node_holding_data);
  // True from an empty start until every peer said no or one said yes.
  bool asking() const;
  // True once, after a peer said it had seen this node holding data: the
  // caller marks every partition for repair, then calls LossMarked.
  bool TakeLoss();
  void LossMarked();
  // Whether the node may lack writes it acknowledged in an earlier life:
  // while asking, and after a loss until the caller has marked it (every
  // partition marked for repair says so from then on).
  bool MayLackWrites() const;
  // True once, when the check is settled either way (after TakeLoss, if it
  // was a loss): the caller records that it need not ask again.
  bool TakeSettled();

 private:
  mutable absl::Mutex mu_;
  std::set<std::string> waiting_ ABSL_GUARDED_BY(mu_);  // peers yet to answer
  bool asking_ ABSL_GUARDED_BY(mu_);
  bool loss_found_ ABSL_GUARDED_BY(mu_) = false;
  bool loss_taken_ ABSL_GUARDED_BY(mu_) = false;
  bool loss_marked_ ABSL_GUARDED_BY(mu_) = false;
  bool settled_taken_ ABSL_GUARDED_BY(mu_) = false;
};

// The actors of other nodes this node has seen holding data: what it
// answers a peer that asks after an empty start. Thread-safe.
class PeersHoldingData {
 public:
  // `recorded`: the actors recorded durably before (ReplicaStore).
  explicit PeersHoldingData(std::set<std::string> recorded) : seen_(std::move(recorded)) {}

  // A ping showed `actor` (of another node) holding data.
  void Saw(const std::string& actor);
  // Whether `node` was seen holding data under another actor than
  // `current_actor`.
  bool HeldUnderAnotherActor(const std::string& node, const std::string& current_actor) const;
  // The actors seen since the last call and not recorded yet, for the
  // caller to record durably (off the threads that handle pings); one it
  // could not record goes back with Unrecorded.
  std::vector<std::string> TakeUnrecorded();
  void Unrecorded(const std::string& actor);

 private:
  mutable absl::Mutex mu_;
  std::set<std::string> seen_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> unrecorded_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_EMPTY_START_H_
