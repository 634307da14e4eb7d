// AntiEntropy's exchange with one peer over one partition (anti_entropy.h):
// the Merkle roots, then the differing segments' hashes, then the objects
// of the segments that differ, merged a page at a time. The rounds that
// start and end the exchanges are in anti_entropy.cc.
#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "replication/anti_entropy.h"
#include "replication/object_codec.h"
#include "replication/status_macros.h"
#include "replication/tombstone_purge.h"

namespace quorumkv {

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

}  // namespace quorumkv
