#include "replication/freshness.h"

#include <algorithm>

#include "replication/empty_start.h"
#include "replication/hints.h"
#include "replication/replica_store.h"
#include "replication/status_macros.h"

namespace quorumkv {

void FreshnessWatermarks::Advance(uint32_t partition, absl::Time steady_time) {
  absl::MutexLock lock(&mu_);
  auto [it, added] = watermarks_.emplace(partition, steady_time);
  if (!added) it->second = std::max(it->second, steady_time);
}

std::optional<absl::Duration> FreshnessWatermarks::AgeOf(uint32_t partition,
                                                         absl::Time steady_now) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = watermarks_.find(partition);
  // A clock behind the watermark proves nothing: an age of 0 would claim
  // every write.
  if (it == watermarks_.end() || steady_now < it->second) return std::nullopt;
  return steady_now - it->second;
}

absl::StatusOr<pb::SurveyAnswer> AnswerSurvey(Hints& hints, ReplicaStore& store,
                                              const EmptyStartCheck& empty) {
  // The order matters: a loss found is marked before MayLackWrites turns
  // false (ReplicaNode::SettleEmptyStart), and an expired hint's partition
  // is marked before the hint leaves the summary (Hints::DropExpired). Read
  // in this order, each passes to the next read, never between the two.
  pb::SurveyAnswer answer;
  answer.set_may_lack_writes(empty.MayLackWrites());
  for (const HintSummary& summary : hints.Summarize()) {
    if (summary.count > 0) answer.add_hints_pending_for(summary.home);
  }
  ASSIGN_OR_RETURN(std::vector<uint32_t> marked, store.PartitionsMarkedForRepair());
  for (uint32_t partition : marked) answer.add_partitions_marked(partition);
  answer.set_answered(true);
  return answer;
}

Survey::Survey(const std::vector<std::string>& nodes, absl::Time sent)
    : sent_(sent), waiting_(nodes.begin(), nodes.end()) {}

void Survey::OnAnswer(const std::string& node, const pb::SurveyAnswer& answer) {
  if (!answer.answered()) return OnFailure(node);
  if (waiting_.erase(node) == 0) return;
  homes_hinted_.insert(answer.hints_pending_for().begin(), answer.hints_pending_for().end());
  marked_.insert(answer.partitions_marked().begin(), answer.partitions_marked().end());
  may_lack_writes_ = may_lack_writes_ || answer.may_lack_writes();
}

void Survey::OnFailure(const std::string& node) {
  if (waiting_.erase(node) > 0) failed_ = true;
}

bool Survey::Clears(uint32_t partition, const std::vector<std::string>& home) const {
  if (failed_ || may_lack_writes_ || !waiting_.empty()) return false;
  if (marked_.count(partition) > 0 || marked_.count(kEveryPartition) > 0) return false;
  return std::none_of(home.begin(), home.end(),
                      [&](const std::string& node) { return homes_hinted_.count(node) > 0; });
}

}  // namespace quorumkv
