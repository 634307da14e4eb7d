#include "replication/anti_entropy.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "replication/logging.h"
#include "replication/object_codec.h"
#include "replication/status_macros.h"
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

void AntiEntropy::Send(const Exchange& x, pb::ExchangeRequest request, absl::Time now) {
  request.set_from(node_->self());
  request.set_partition(x.pair.partition);
  Count([&](AntiEntropyStats& s) { s.bytes_sent += request.ByteSizeLong(); });
  node_->transport.Exchange(x.pair.peer, request, now + options_.call_timeout,
                            [this, id = x.id](absl::StatusOr<pb::ExchangeResponse> reply) {
                              absl::MutexLock lock(&mu_);
                              auto it = inbox_.find(id);
                              if (it != inbox_.end()) it->second.reply = std::move(reply);
                            });
}

void AntiEntropy::OnReply(Exchange& x, const pb::ExchangeResponse& reply, absl::Time now) {
  if (reply.may_lack_writes()) {
    auto it = partitions_.find(x.pair.partition);
    if (it != partitions_.end()) it->second.peer_may_lack_writes = true;
  }
  switch (x.step) {
    case Step::kRoot:
      return OnRoot(x, reply, now);
    case Step::kSegmentHashes:
      return OnSegmentHashes(x, reply, now);
    case Step::kObjects: {
      absl::Status listed = OnObjects(x, reply, now);
      if (!listed.ok()) return EndExchange(x, listed);
      return MergeSome(x, now);
    }
    case Step::kMerging:
      return;  // no request is out while merging
  }
}

void AntiEntropy::OnRoot(Exchange& x, const pb::ExchangeResponse& reply, absl::Time now) {
  const MerkleTree local = node_->trees.Tree(x.pair.partition);
  Count([&](AntiEntropyStats& s) { s.hashes_compared += 1; });
  // A reply with the root alone: the peer's root equalled the one this
  // node sent, though this tree has changed since (writes land meanwhile).
  // They agreed when asked; the next round compares again.
  if (reply.root() == local.root() || reply.children_size() == 0) {
    return EndExchange(x, absl::OkStatus());
  }
  const std::vector<uint64_t> mine = local.Children(0, 0);
  if (static_cast<size_t>(reply.children_size()) != mine.size()) {
    return EndExchange(x, absl::InternalError("the peer sent a root with the wrong fan-out"));
  }
  pb::ExchangeRequest request;
  request.set_level(1);
  for (uint32_t i = 0; i < mine.size(); ++i) {
    if (mine[i] != reply.children(static_cast<int>(i))) request.add_nodes(i);
  }
  Count([&](AntiEntropyStats& s) { s.hashes_compared += mine.size(); });
  if (request.nodes().empty()) return EndExchange(x, absl::OkStatus());  // changed meanwhile
  x.step = Step::kSegmentHashes;
  x.differing_nodes.assign(request.nodes().begin(), request.nodes().end());
  Send(x, std::move(request), now);
}

void AntiEntropy::OnSegmentHashes(Exchange& x, const pb::ExchangeResponse& reply, absl::Time now) {
  const MerkleTree local = node_->trees.Tree(x.pair.partition);
  if (static_cast<size_t>(reply.children_size()) !=
      x.differing_nodes.size() * MerkleTree::kFanout) {
    return EndExchange(x, absl::InternalError("the peer sent the wrong number of segment hashes"));
  }
  pb::ExchangeRequest request;
  int at = 0;
  for (uint32_t node : x.differing_nodes) {
    const std::vector<uint64_t> mine = local.Children(1, node);
    for (uint32_t i = 0; i < mine.size(); ++i) {
      if (mine[i] != reply.children(at++)) request.add_segments(node * MerkleTree::kFanout + i);
    }
  }
  Count([&](AntiEntropyStats& s) { s.hashes_compared += reply.children_size(); });
  if (request.segments().empty()) return EndExchange(x, absl::OkStatus());
  x.step = Step::kObjects;
  x.segments.assign(request.segments().begin(), request.segments().end());
  Send(x, std::move(request), now);
}

absl::Status AntiEntropy::OnObjects(Exchange& x, const pb::ExchangeResponse& reply,
                                    absl::Time now) {
  std::map<std::string, KeyListing> by_key;
  for (const pb::ExchangeEntry& e : reply.entries()) {
    ASSIGN_OR_RETURN(Object remote, FromProto(e.object()));
    by_key[e.key()] = KeyListing{.remote = std::move(remote), .remote_purged = e.purged()};
  }
  // Ours, in the segments the page lists whole (the first ones asked),
  // within a page too: against an empty peer the page is small and ours
  // would be the whole partition.
  const auto [first, last] = node_->ring.HashRangeOf(x.pair.partition);
  size_t complete = std::min<size_t>(reply.segments_complete(), x.segments.size());
  if (complete == 0) {
    return absl::InternalError("the peer listed none of the segments asked for");
  }
  size_t bytes = 0;
  for (size_t i = 0; i < complete; ++i) {
    if (i > 0 && bytes >= kExchangePageBytes) {
      complete = i;  // the rest goes in the next page
      break;
    }
    RETURN_IF_ERROR(node_->store->ForEachObjectInSegment(
        x.segments[i], first, last, [&](absl::string_view key, const Object& object) {
          by_key[std::string(key)].local = object;
          bytes += key.size() + ValueBytes(object) + 64;
        }));
  }
  // Keys of the peer's in segments past the local page: the next page
  // lists them again.
  const std::set<uint32_t> listed(x.segments.begin(), x.segments.begin() + complete);
  for (auto it = by_key.begin(); it != by_key.end();) {
    it = listed.count(MerkleTree::SegmentOf(it->first)) > 0 ? std::next(it) : by_key.erase(it);
  }
  x.segments_listed = complete;
  for (const auto& [key, listed] : by_key) {
    std::optional<KeyRepair> repair =
        RepairOf(key, listed, node_->purged_keys.Find(key, now), node_->PolicyFor(key));
    if (repair) x.differing.push_back(*std::move(repair));
  }
  Count([&](AntiEntropyStats& s) {
    s.keys_differing += x.differing.size();
    ++s.pages_listed;
  });
  x.step = Step::kMerging;
  return absl::OkStatus();
}

void AntiEntropy::MergeSome(Exchange& x, absl::Time now) {
  // Merges go in batches of a fifth of a second's worth (or what is left):
  // each batch is one synced write here, so at most about five a second,
  // not one per tick.
  const size_t left = x.differing.size() - x.next;
  const double batch = std::min<double>(left, std::max(1.0, options_.keys_per_second / 5.0));
  if (left > 0 && (tokens_ < batch || byte_tokens_ <= 0)) return;
  pb::ReplicaWriteBatchRequest local;
  local.set_from(x.pair.peer);
  std::vector<pb::ReplicaWriteRequest> pushes;
  while (x.next < x.differing.size() && tokens_ >= 1 && byte_tokens_ > 0) {
    tokens_ -= 1;
    const KeyRepair& d = x.differing[x.next++];
    byte_tokens_ -= static_cast<double>(d.key.size() + (d.take ? ValueBytes(*d.take) : 0) +
                                        (d.give ? ValueBytes(*d.give) : 0));
    if (d.take) {
      pb::ReplicaWriteRequest* w = local.add_writes();
      w->set_key(d.key);
      ToProto(*d.take, w->mutable_object());
    }
    if (d.give) {
      pb::ReplicaWriteRequest push;
      push.set_key(d.key);
      push.set_from(node_->self());
      ToProto(*d.give, push.mutable_object());
      pushes.push_back(std::move(push));
    }
  }
  uint64_t merged = 0;
  if (!local.writes().empty()) {
    const pb::ReplicaWriteBatchResponse result = merge_(local);
    for (const pb::ReplicaWriteResult& r : result.results()) {
      if (r.code() == 0) {
        ++merged;
      } else {
        x.merge_failure = StatusFromProto(r);
      }
    }
  }
  uint64_t sent = 0;
  for (const pb::ReplicaWriteRequest& push : pushes) sent += push.ByteSizeLong();
  {
    absl::MutexLock lock(&mu_);
    stats_.keys_repaired += merged;
    stats_.bytes_sent += sent;
    inbox_[x.id].pushes_in_flight += pushes.size();
  }
  for (pb::ReplicaWriteRequest& push : pushes) {
    node_->transport.Write(x.pair.peer, push, now + options_.call_timeout,
                           [this, id = x.id](absl::StatusOr<pb::ReplicaWriteResponse> reply) {
                             absl::MutexLock lock(&mu_);
                             Inbox& box = inbox_[id];
                             --box.pushes_in_flight;
                             if (reply.ok()) {
                               ++stats_.keys_repaired;
                             } else {
                               box.push_failure = reply.status();
                             }
                           });
  }
  if (x.next < x.differing.size()) return;
  absl::Status failure = x.merge_failure;
  {
    absl::MutexLock lock(&mu_);
    const Inbox& box = inbox_[x.id];
    if (box.pushes_in_flight > 0) return;
    if (failure.ok()) failure = box.push_failure;
  }
  if (failure.ok() && x.segments_listed < x.segments.size()) return AskNextPage(x, now);
  EndExchange(x, failure);
}

void AntiEntropy::AskNextPage(Exchange& x, absl::Time now) {
  x.segments.erase(x.segments.begin(),
                   x.segments.begin() + static_cast<std::ptrdiff_t>(x.segments_listed));
  x.segments_listed = 0;
  x.differing.clear();
  x.next = 0;
  x.step = Step::kObjects;
  pb::ExchangeRequest request;
  for (uint32_t s : x.segments) request.add_segments(s);
  Send(x, std::move(request), now);
}

void AntiEntropy::EndExchange(Exchange& x, const absl::Status& outcome) {
  x.ended = true;
  if (!outcome.ok()) round_failed_ = true;
  auto it = partitions_.find(x.pair.partition);
  if (it != partitions_.end()) {
    PartitionRound& p = it->second;
    p.failed = p.failed || !outcome.ok();
    if (--p.exchanges_left == 0) {
      AdvanceWatermark(x.pair.partition, p);
      if (!p.failed && !p.purges.empty()) {
        const uint64_t purged =
            PurgeUnchangedTombstones(*node_, x.pair.partition, p.purges, node_->clock->Now());
        Count([&](AntiEntropyStats& s) { s.tombstones_purged += purged; });
      }
      partitions_.erase(it);
    }
  }
  Count([&](AntiEntropyStats& s) {
    ++s.exchanges_done;
    if (outcome.ok()) return;
    ++s.exchanges_failed;
    s.last_error = absl::StrCat("partition ", x.pair.partition, " with ", x.pair.peer, ": ",
                                outcome.ToString());
  });
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
