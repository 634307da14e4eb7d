// AntiEntropy's part in freshness watermarks (freshness.h): the survey
// that opens a round, and the watermark a partition gets when its
// exchanges end (anti_entropy.h).
#include <map>
#include <string>
#include <vector>

#include "replication/anti_entropy.h"

namespace quorumkv {

void AntiEntropy::StartSurvey(absl::Time now) {
  std::vector<std::string> nodes;
  for (const pb::NodeConfig& n : node_->config().nodes()) nodes.push_back(n.id());
  survey_.emplace(nodes, node_->clock->Steady());
  uint64_t round = 0;
  {
    absl::MutexLock lock(&mu_);
    round = ++survey_round_;
    survey_inbox_.clear();
  }
  absl::StatusOr<pb::SurveyAnswer> own =
      AnswerSurvey(*node_->hints, *node_->store, node_->empty_start);
  if (own.ok()) {
    survey_->OnAnswer(node_->self(), *own);
  } else {
    survey_->OnFailure(node_->self());
  }
  pb::ExchangeRequest request;
  request.set_from(node_->self());
  request.set_survey(true);
  for (const std::string& peer : nodes) {
    if (peer == node_->self()) continue;
    if (node_->detector.StateOf(peer, now) == PeerState::kDown) {
      survey_->OnFailure(peer);
      continue;
    }
    node_->transport.Exchange(peer, request, now + options_.call_timeout,
                              [this, round, peer](absl::StatusOr<pb::ExchangeResponse> reply) {
                                absl::MutexLock lock(&mu_);
                                if (round != survey_round_) return;
                                if (reply.ok()) {
                                  survey_inbox_.insert_or_assign(
                                      peer, std::move(*reply->mutable_survey()));
                                } else {
                                  survey_inbox_.insert_or_assign(peer, reply.status());
                                }
                              });
  }
}

void AntiEntropy::TakeSurveyAnswers() {
  std::map<std::string, absl::StatusOr<pb::SurveyAnswer>> answers;
  {
    absl::MutexLock lock(&mu_);
    answers.swap(survey_inbox_);
  }
  if (!survey_) return;
  for (const auto& [node, answer] : answers) {
    if (answer.ok()) {
      survey_->OnAnswer(node, *answer);
    } else {
      survey_->OnFailure(node);
    }
  }
}

void AntiEntropy::AdvanceWatermark(uint32_t partition, const PartitionRound& round) {
  if (round.failed || round.peer_may_lack_writes || !survey_) return;
  if (!survey_->Clears(partition, node_->ring.ForPartition(partition).home)) return;
  node_->watermarks.Advance(partition, survey_->sent());
}

}  // namespace quorumkv
