#include "replication/get_coordinator.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "replication/invariant.h"

namespace quorumkv {

GetCoordinator::GetCoordinator(GetPlan plan)
    : plan_(std::move(plan)),
      slots_(plan_.pref, plan_.r, plan_.sloppy, plan_.healthy, plan_.start,
             plan_.read_all ? UINT32_MAX : plan_.r) {}

std::vector<SlotSend> GetCoordinator::Start() { return slots_.Start(plan_.self); }

std::optional<SlotSend> GetCoordinator::OnReply(const std::string& from,
                                                const absl::StatusOr<std::optional<Object>>& reply,
                                                absl::Time now, const ReplicaReadNotes& notes) {
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
  if (*home == from) {
    home_states_[from] = std::move(state);
    if (notes.may_lack_writes) {
      lacking_.insert(from);
    } else if (notes.watermark_age) {
      youngest_watermark_ =
          std::min(youngest_watermark_.value_or(absl::InfiniteDuration()), *notes.watermark_age);
    }
  }
  return std::nullopt;
}

void GetCoordinator::OnDeadline() { slots_.ExpirePending(); }

absl::Status GetCoordinator::outcome() const {
  QKV_INVARIANT(
      slots_.home_successes() <= slots_.successes() && slots_.successes() <= plan_.pref.home.size(),
      absl::StrCat("replies (", slots_.home_successes(), " home, ", slots_.successes(),
                   " in all) exceed the ", plan_.pref.home.size(), " slots"));
  if (slots_.state() == QuorumState::kMet) return absl::OkStatus();
  return slots_.QuorumError(QuorumSlots::Kind::kRead, "replies", "R", "");
}

pb::QuorumInfo GetCoordinator::quorum() const {
  pb::QuorumInfo info;
  info.set_coordinator(plan_.self);
  slots_.FillQuorumInfo(&info);
  FillOverlap(&info);
  return info;
}

// Only home replicas' answers say anything of acknowledged writes (a
// fallback holds just the hints it took). A write on c home replicas meets
// h of them that answered whenever h + c > N: the reply reflects every write
// on at least N - h + 1 of them (covers_w). Every acknowledged write is on
// min_w home replicas at least, so the reply reflects every acknowledged
// write when h + min_w > N — counting only replicas that cannot have lost
// writes since they acknowledged them.
void GetCoordinator::FillOverlap(pb::QuorumInfo* info) const {
  const uint32_t n = info->n();
  const uint32_t h = slots_.home_successes();
  uint32_t sound = h;
  for (const std::string& node : lacking_) sound -= slots_.Answered(node) ? 1 : 0;
  info->set_covers_w(h == 0 ? 0 : n - h + 1);
  info->set_strict_overlap(sound > 0 && StrictOverlap(sound, plan_.min_w, n));
  // Strict overlap proves the reply reflects every write acknowledged
  // before the read began: staleness 0. Otherwise a home replica's
  // freshness watermark proves it reflects every write acknowledged that
  // long before (freshness.h), or nothing is proven (unknown, absent), an
  // honest answer.
  if (info->strict_overlap()) {
    info->set_staleness_bound_ms(0);
  } else if (youngest_watermark_) {
    info->set_staleness_bound_ms(
        absl::ToInt64Milliseconds(absl::Ceil(*youngest_watermark_, absl::Milliseconds(1))));
  }
  if (h == 0) {
    info->set_overlap_note(
        "no home replica answered: the reply proves nothing of the writes acknowledged (a "
        "fallback holds only the hints it took)");
    return;
  }
  std::string note;
  if (info->strict_overlap()) {
    note =
        absl::StrCat(h, " of ", n, " home replicas answered and every acknowledged write is on at ",
                     "least ", plan_.min_w, " (min_w): the reply reflects them all");
  } else {
    note = absl::StrCat(h, " of ", n, " home replicas answered: the reply reflects every write on ",
                        "at least ", n - h + 1, " of the ", n,
                        "; one acknowledged by fewer (a lower W, or a sloppy write whose hints "
                        "are not handed back yet) may be missing");
  }
  if (!lacking_.empty()) {
    absl::StrAppend(&note, "; ", absl::StrJoin(lacking_, ", "),
                    " may have lost writes in a restart and do", lacking_.size() == 1 ? "es" : "",
                    " not count toward that");
  }
  info->set_overlap_note(std::move(note));
}

std::vector<std::string> GetCoordinator::StaleReplicas() const {
  std::vector<std::string> stale;
  for (const auto& [node, state] : home_states_) {
    if (!(state == merged_)) stale.push_back(node);
  }
  return stale;
}

}  // namespace quorumkv
