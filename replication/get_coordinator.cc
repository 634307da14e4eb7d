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
  const std::optional<std::string> home = slots_.HomeWaitingOn(from);
  if (!home) return std::nullopt;  // a duplicate, or no slot waited on it
  if (*home != from && !reply->has_value()) {
    // A fallback with no hint of the key knows nothing of it: its empty
    // answer is no vote for the home, whose replica may well hold the key.
    // The slot moves to the next fallback, if one is left.
    return slots_.OnReply(from, absl::NotFoundError("holds no hint of the key"), now);
  }
  slots_.OnReply(from, absl::OkStatus(), now);
  Object state = reply->value_or(Object());
  merged_ = Sync(plan_.policy, merged_, state);
  if (*home == from) home_states_[from] = std::move(state);
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
