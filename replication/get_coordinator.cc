#include "replication/get_coordinator.h"

namespace quorumkv {

GetCoordinator::GetCoordinator(GetPlan plan)
    : plan_(std::move(plan)),
      slots_(plan_.pref, plan_.r, plan_.sloppy, plan_.healthy, plan_.start,
             plan_.read_all ? UINT32_MAX : plan_.r) {}

std::vector<SlotSend> GetCoordinator::Start() { return slots_.Start(plan_.self); }

std::optional<SlotSend> GetCoordinator::OnReply(const std::string& from,
                                                const absl::StatusOr<std::optional<Object>>& reply,
                                                absl::Time now) {
  if (!reply.ok()) return slots_.OnReply(from, reply.status(), now);
  if (slots_.Answered(from)) return std::nullopt;  // a duplicate
  slots_.OnReply(from, absl::OkStatus(), now);
  std::string home;
  if (!slots_.Answered(from, &home)) return std::nullopt;  // no slot waited on it
  Object state = reply->value_or(Object());
  merged_ = Sync(plan_.policy, merged_, state);
  if (home == from) home_states_[from] = std::move(state);
  return std::nullopt;
}

void GetCoordinator::OnDeadline() { slots_.ExpirePending(); }

absl::Status GetCoordinator::outcome() const {
  if (slots_.state() == QuorumState::kMet) return absl::OkStatus();
  return slots_.QuorumError(QuorumSlots::Kind::kRead, "replies", "R", "");
}

pb::QuorumInfo GetCoordinator::quorum() const {
  pb::QuorumInfo info;
  info.set_coordinator(plan_.self);
  slots_.FillQuorumInfo(&info);
  // Only home replicas make the overlap with a strict write quorum.
  info.set_strict_overlap(StrictOverlap(slots_.home_successes(), plan_.default_w, info.n()));
  return info;
}

std::vector<std::string> GetCoordinator::StaleReplicas() const {
  std::vector<std::string> stale;
  for (const auto& [node, state] : home_states_) {
    if (!(state == merged_)) stale.push_back(node);
  }
  return stale;
}

}  // namespace quorumkv
