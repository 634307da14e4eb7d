#include "replication/put_coordinator.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "replication/invariant.h"
#include "replication/object_codec.h"

namespace quorumkv {

PutCoordinator::PutCoordinator(PutPlan plan)
    : plan_(std::move(plan)),
      slots_(plan_.pref, plan_.w, plan_.sloppy, plan_.healthy, plan_.start, UINT32_MAX,
             plan_.min_w) {
  request_.set_key(plan_.key);
  request_.set_from(plan_.self);
  ToProto(plan_.stored, request_.mutable_object());
}

std::vector<SlotSend> PutCoordinator::Start() {
  std::vector<SlotSend> sends = slots_.Start(plan_.self);
  slots_.OnReply(plan_.self, absl::OkStatus(), plan_.start);
  return sends;
}

std::optional<SlotSend> PutCoordinator::OnReply(const std::string& from, const absl::Status& status,
                                                absl::Time now) {
  if (from == plan_.self) return std::nullopt;
  return slots_.OnReply(from, status, now);
}

void PutCoordinator::OnDeadline() { slots_.ExpirePending(); }

absl::Status PutCoordinator::outcome() const {
  QKV_INVARIANT(
      slots_.home_successes() <= slots_.successes() && slots_.successes() <= plan_.pref.home.size(),
      absl::StrCat("acks (", slots_.home_successes(), " home, ", slots_.successes(),
                   " in all) exceed the ", plan_.pref.home.size(), " slots"));
  if (slots_.state() == QuorumState::kMet) return absl::OkStatus();
  // Every replica that acked keeps the write: say where it may linger.
  std::vector<std::string> applied;
  for (const std::string& node : plan_.pref.home) {
    if (slots_.Answered(node)) applied.push_back(node);
  }
  for (const std::string& node : plan_.pref.fallbacks) {
    if (slots_.Answered(node)) applied.push_back(absl::StrCat(node, " (hint)"));
  }
  return slots_.QuorumError(QuorumSlots::Kind::kWrite, "acks", "W",
                            absl::StrCat("; the write may be partially applied (stored on ",
                                         absl::StrJoin(applied, ","), ")"));
}

pb::QuorumInfo PutCoordinator::quorum() const {
  pb::QuorumInfo info;
  info.set_coordinator(plan_.self);
  slots_.FillQuorumInfo(&info);
  // Hints on fallbacks are not where a strict read looks: only home acks
  // make the overlap.
  const uint32_t home_acks = slots_.home_successes();
  info.set_strict_overlap(StrictOverlap(plan_.default_r, home_acks, info.n()));
  info.set_overlap_note(absl::StrCat(
      "on ", home_acks, " of the ", info.n(), " home replicas",
      info.fallbacks_size() > 0 ? " (and fallbacks, whose hints count once handed back)" : "",
      ": a read of the default R=", plan_.default_r, " home replicas ",
      info.strict_overlap() ? "reflects it" : "may miss it"));
  return info;
}

}  // namespace quorumkv
