#include "replication/put_coordinator.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "replication/object_codec.h"

namespace quorumkv {

PutCoordinator::PutCoordinator(PutPlan plan)
    : plan_(std::move(plan)), tally_(plan_.home, plan_.w, plan_.start) {
  request_.set_key(plan_.key);
  request_.set_from(plan_.self);
  ToProto(plan_.stored, request_.mutable_object());
  tally_.RecordSuccess(plan_.self, plan_.start);
}

std::vector<std::string> PutCoordinator::Targets() const {
  std::vector<std::string> targets;
  for (const std::string& node : plan_.home) {
    if (node != plan_.self) targets.push_back(node);
  }
  return targets;
}

void PutCoordinator::OnReply(const std::string& from, const absl::Status& status, absl::Time now) {
  if (from == plan_.self) return;
  if (status.ok()) {
    tally_.RecordSuccess(from, now);
  } else {
    tally_.RecordFailure(from, status);
  }
}

void PutCoordinator::OnDeadline() { tally_.ExpirePending(); }

absl::Status PutCoordinator::outcome() const {
  if (tally_.state() == QuorumState::kMet) return absl::OkStatus();
  // Every replica that acked keeps the write: say where it may linger.
  std::vector<std::string> applied;
  for (const std::string& node : plan_.home) {
    if (tally_.succeeded(node)) applied.push_back(node);
  }
  return tally_.QuorumError(ReplyTally::Kind::kWrite, "acks", "W",
                            absl::StrCat("; the write may be partially applied (stored on ",
                                         absl::StrJoin(applied, ","), ")"));
}

pb::QuorumInfo PutCoordinator::quorum() const {
  pb::QuorumInfo info;
  info.set_coordinator(plan_.self);
  info.set_n(static_cast<uint32_t>(plan_.home.size()));
  tally_.FillQuorumInfo(&info);
  info.set_strict_overlap(StrictOverlap(plan_.default_r, plan_.w, info.n()));
  return info;
}

}  // namespace quorumkv
