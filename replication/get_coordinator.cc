#include "replication/get_coordinator.h"

namespace quorumkv {

GetCoordinator::GetCoordinator(GetPlan plan)
    : plan_(std::move(plan)), tally_(plan_.home, plan_.r, plan_.start) {}

void GetCoordinator::OnReply(const std::string& from,
                             const absl::StatusOr<std::optional<Object>>& reply, absl::Time now) {
  if (!reply.ok()) {
    tally_.RecordFailure(from, reply.status());
    return;
  }
  if (!tally_.RecordSuccess(from, now)) return;
  Object state = reply->value_or(Object());
  merged_ = Sync(plan_.policy, merged_, state);
  states_[from] = std::move(state);
}

void GetCoordinator::OnDeadline() { tally_.ExpirePending(); }

absl::Status GetCoordinator::outcome() const {
  if (tally_.state() == QuorumState::kMet) return absl::OkStatus();
  return tally_.QuorumError(ReplyTally::Kind::kRead, "replies", "R", "");
}

pb::QuorumInfo GetCoordinator::quorum() const {
  pb::QuorumInfo info;
  info.set_coordinator(plan_.self);
  info.set_n(static_cast<uint32_t>(plan_.home.size()));
  tally_.FillQuorumInfo(&info);
  info.set_strict_overlap(StrictOverlap(plan_.r, plan_.default_w, info.n()));
  return info;
}

std::vector<std::string> GetCoordinator::StaleReplicas() const {
  std::vector<std::string> stale;
  for (const auto& [node, state] : states_) {
    if (!(state == merged_)) stale.push_back(node);
  }
  return stale;
}

}  // namespace quorumkv
