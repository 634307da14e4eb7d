#include "replication/empty_start.h"

#include <utility>

#include "absl/strings/match.h"

namespace quorumkv {

EmptyStartCheck::EmptyStartCheck(bool started_empty, const std::vector<std::string>& peers)
    : waiting_(peers.begin(), peers.end()), asking_(started_empty && !peers.empty()) {}

void EmptyStartCheck::OnPeerAnswer(const std::string& peer, bool saw_this_node_holding_data) {
  absl::MutexLock lock(&mu_);
  // A peer's first answer counts: later ones may have seen this very life
  // hold data.
  if (!asking_ || waiting_.count(peer) == 0) return;
  if (saw_this_node_holding_data) {
    loss_found_ = true;
    asking_ = false;
    return;
  }
  waiting_.erase(peer);
  if (waiting_.empty()) asking_ = false;
}

bool EmptyStartCheck::asking() const {
  absl::MutexLock lock(&mu_);
  return asking_;
}

bool EmptyStartCheck::TakeLoss() {
  absl::MutexLock lock(&mu_);
  if (!loss_found_ || loss_taken_) return false;
  loss_taken_ = true;
  return true;
}

void EmptyStartCheck::LossMarked() {
  absl::MutexLock lock(&mu_);
  loss_marked_ = true;
}

bool EmptyStartCheck::MayLackWrites() const {
  absl::MutexLock lock(&mu_);
  return asking_ || (loss_found_ && !loss_marked_);
}

bool EmptyStartCheck::TakeSettled() {
  absl::MutexLock lock(&mu_);
  if (asking_ || settled_taken_ || (loss_found_ && !loss_taken_)) return false;
  settled_taken_ = true;
  return true;
}

void PeersHoldingData::Saw(const std::string& actor) {
  absl::MutexLock lock(&mu_);
  if (seen_.insert(actor).second) unrecorded_.push_back(actor);
}

bool PeersHoldingData::HeldUnderAnotherActor(const std::string& node,
                                             const std::string& current_actor) const {
  const std::string prefix = node + ".";
  absl::MutexLock lock(&mu_);
  for (auto it = seen_.lower_bound(prefix); it != seen_.end() && absl::StartsWith(*it, prefix);
       ++it) {
    if (*it != current_actor) return true;
  }
  return false;
}

std::vector<std::string> PeersHoldingData::TakeUnrecorded() {
  absl::MutexLock lock(&mu_);
  return std::exchange(unrecorded_, {});
}

void PeersHoldingData::Unrecorded(const std::string& actor) {
  absl::MutexLock lock(&mu_);
  unrecorded_.push_back(actor);
}

}  // namespace quorumkv
