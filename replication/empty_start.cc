#include "replication/empty_start.h"

#include <utility>

namespace quorumkv {

EmptyStartCheck::EmptyStartCheck(bool started_empty, const std::vector<std::string>& peers)
    : waiting_(peers.begin(), peers.end()), asking_(started_empty && !peers.empty()) {}

void EmptyStartCheck::OnPeerAnswer(const std::string& peer, bool saw_this_node_holding_data) {
  absl::MutexLock lock(&mu_);
  if (!asking_) return;
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

void PeersHoldingData::Saw(const std::string& peer) {
  absl::MutexLock lock(&mu_);
  if (seen_.insert(peer).second) unrecorded_.push_back(peer);
}

bool PeersHoldingData::Seen(const std::string& peer) const {
  absl::MutexLock lock(&mu_);
  return seen_.count(peer) > 0;
}

std::vector<std::string> PeersHoldingData::TakeUnrecorded() {
  absl::MutexLock lock(&mu_);
  return std::exchange(unrecorded_, {});
}

}  // namespace quorumkv
