#include "replication/anti_entropy.h"

#include <algorithm>
#include <map>
#include <utility>

#include "replication/tombstone_purge.h"

namespace quorumkv {

AntiEntropyOptions AntiEntropyOptionsFor(const pb::ClusterConfig& config) {
  AntiEntropyOptions options;
  options.interval = absl::Milliseconds(config.anti_entropy_interval_ms());
  options.keys_per_second = std::max<uint32_t>(1, config.anti_entropy_keys_per_second());
  options.bytes_per_second = std::max<uint64_t>(1, config.anti_entropy_bytes_per_second());
  options.call_timeout = absl::Milliseconds(config.replica_timeout_ms());
  options.tombstone_grace = absl::Milliseconds(config.tombstone_grace_ms());
  return options;
}

AntiEntropy::AntiEntropy(NodeContext* node, MergeLocally merge, AntiEntropyOptions options)
    : node_(node), merge_(std::move(merge)), options_(options) {}

uint64_t AntiEntropy::RequestRound(std::optional<uint32_t> partition) {
  absl::MutexLock lock(&mu_);
  // A round of the same scope that has not started yet starts after this
  // request too: asking again joins it, so the queue stays bounded (one
  // round per partition, and one of all).
  for (size_t i = 0; i < requested_.size(); ++i) {
    if (requested_[i] == partition) return stats_.rounds_started + i + 1;
  }
  requested_.push_back(partition);
  // Those requested before it start first, after the one running (counted
  // in rounds_started).
  return stats_.rounds_started + requested_.size();
}

AntiEntropyStats AntiEntropy::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

AntiEntropyStats AntiEntropy::last_finished() const {
  absl::MutexLock lock(&mu_);
  return last_finished_;
}

void AntiEntropy::Count(const std::function<void(AntiEntropyStats&)>& update) {
  absl::MutexLock lock(&mu_);
  update(stats_);
}

void AntiEntropy::Tick(absl::Time now) {
  RefillTokens(now);
  TakeSurveyAnswers();
  std::map<uint64_t, absl::StatusOr<pb::ExchangeResponse>> replies;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [id, box] : inbox_) {
      if (!box.reply) continue;
      replies.emplace(id, *std::move(box.reply));
      box.reply.reset();
    }
  }
  for (Exchange& x : active_) {
    auto it = replies.find(x.id);
    if (it != replies.end()) {
      if (it->second.ok()) {
        Count([&](AntiEntropyStats& s) { s.bytes_received += it->second->ByteSizeLong(); });
        OnReply(x, *it->second, now);
      } else {
        EndExchange(x, it->second.status());
      }
    }
    if (!x.ended && x.step == Step::kMerging) MergeSome(x, now);
  }
  {
    absl::MutexLock lock(&mu_);
    for (const Exchange& x : active_) {
      if (x.ended) inbox_.erase(x.id);
    }
  }
  active_.erase(
      std::remove_if(active_.begin(), active_.end(), [](const Exchange& x) { return x.ended; }),
      active_.end());
  StartExchanges(now);
}

void AntiEntropy::RefillTokens(absl::Time now) {
  const double rate = options_.keys_per_second;
  const double byte_rate = static_cast<double>(options_.bytes_per_second);
  if (last_refill_ != absl::InfinitePast()) {
    const double seconds = absl::ToDoubleSeconds(now - last_refill_);
    tokens_ += seconds * rate;
    byte_tokens_ += seconds * byte_rate;
  }
  tokens_ = std::min(tokens_, rate);
  byte_tokens_ = std::min(byte_tokens_, byte_rate);
  last_refill_ = now;
}

bool AntiEntropy::RoundRunning() const {
  absl::MutexLock lock(&mu_);
  return stats_.running;
}

void AntiEntropy::StartRoundIfDue(absl::Time now) {
  std::optional<uint32_t> only;
  {
    absl::MutexLock lock(&mu_);
    if (!requested_.empty()) {
      only = requested_.front();
      requested_.pop_front();
    } else if (options_.interval <= absl::ZeroDuration() || now < next_round_) {
      return;
    } else if (next_round_ == absl::InfinitePast()) {
      // The first periodic round waits an interval after the node starts:
      // nodes restarting together do not all compare at once.
      next_round_ = now + options_.interval;
      return;
    }
    stats_ = AntiEntropyStats{.rounds_started = stats_.rounds_started + 1,
                              .rounds_finished = stats_.rounds_finished,
                              .last_complete_round = stats_.last_complete_round,
                              .running = true};
  }
  if (!only && options_.interval > absl::ZeroDuration()) next_round_ = now + options_.interval;
  round_failed_ = false;
  round_covers_all_ = !only;
  // Marked partitions first; then peer by peer, so that the exchanges of
  // one partition with two peers do not run at once (the second would
  // repair again what the first is repairing).
  std::map<std::pair<bool, std::string>, std::vector<Pair>> by_peer;  // (unmarked, peer)
  for (uint32_t p = 0; p < node_->ring.partition_count(); ++p) {
    if (only && *only != p) continue;
    const std::vector<std::string>& home = node_->ring.ForPartition(p).home;
    if (std::find(home.begin(), home.end(), node_->self()) == home.end()) continue;
    const bool unmarked = !node_->store->MarkedForRepair(p);
    for (const std::string& peer : home) {
      if (peer != node_->self()) by_peer[{unmarked, peer}].push_back(Pair{p, peer});
    }
  }
  pairs_.clear();
  partitions_.clear();
  trees_needed_ = 0;
  for (const auto& [order, pairs] : by_peer) {
    pairs_.insert(pairs_.end(), pairs.begin(), pairs.end());
    for (const Pair& pair : pairs) ++partitions_[pair.partition].exchanges_left;
  }
  ListPurges(now);
  Count([&](AntiEntropyStats& s) { s.exchanges_total = static_cast<uint32_t>(pairs_.size()); });
  survey_.reset();
  if (!pairs_.empty()) StartSurvey(now);
}

void AntiEntropy::StartExchanges(absl::Time now) {
  if (!RoundRunning()) {
    StartRoundIfDue(now);
    if (!RoundRunning()) return;
  }
  // A round that purges compares trees that hold what its listing saw.
  if (node_->tree_keeping_store.AppliedThrough() < trees_needed_) return;
  // The exchanges begin once every node answered the survey (or failed to):
  // what a write acknowledged before it was then on a home replica.
  if (survey_ && !survey_->done()) return;
  while (active_.size() < kMaxExchangesInFlight && !pairs_.empty()) {
    Exchange x{.id = ++next_exchange_id_, .pair = std::move(pairs_.front())};
    pairs_.pop_front();
    if (node_->detector.StateOf(x.pair.peer, now) == PeerState::kDown) {
      EndExchange(x, absl::UnavailableError(absl::StrCat(x.pair.peer, " is down")));
      continue;
    }
    {
      absl::MutexLock lock(&mu_);
      inbox_[x.id] = Inbox();
    }
    pb::ExchangeRequest request;
    request.set_level(0);
    request.add_nodes(0);
    request.set_asker_root(node_->trees.Root(x.pair.partition));
    active_.push_back(std::move(x));
    Send(active_.back(), std::move(request), now);
  }
  if (active_.empty() && pairs_.empty()) EndRound(now);
}

void AntiEntropy::EndRound(absl::Time now) {
  absl::MutexLock lock(&mu_);
  stats_.running = false;
  stats_.complete = !round_failed_;
  ++stats_.rounds_finished;
  // Only a round over every partition is a complete round of the node.
  if (stats_.complete && round_covers_all_) {
    stats_.last_complete_round = now;
    node_->last_complete_repair_round_us.store(absl::ToUnixMicros(now));
  }
  last_finished_ = stats_;
}

void AntiEntropy::ListPurges(absl::Time now) {
  if (options_.tombstone_grace <= absl::ZeroDuration()) return;
  std::map<uint32_t, std::vector<ReplicaStore::Purge>*> purges;
  for (auto& [partition, p] : partitions_) purges[partition] = &p.purges;
  absl::Status listed = ListTombstonesToPurge(*node_, now - options_.tombstone_grace, purges);
  trees_needed_ = node_->tree_keeping_store.Began();
  if (!listed.ok()) {
    // Nothing is purged this round; the exchanges go on.
    node_->store_error_log.Occurred(
        now, {{"op", "list tombstones to purge"}, {"error", listed.message()}});
  }
}

}  // namespace quorumkv
