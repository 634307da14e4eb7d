#include "replication/exchange_answer.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "replication/merkle_tree.h"
#include "replication/object_codec.h"
#include "replication/status_macros.h"

namespace quorumkv {
namespace {

uint32_t NodesAtLevel(int level) {
  uint32_t count = 1;
  for (int l = 0; l < level; ++l) count *= MerkleTree::kFanout;
  return count;
}

absl::Status CheckPartitionHome(const NodeContext& node, uint32_t partition) {
  if (partition >= node.ring.partition_count()) {
    return absl::InvalidArgumentError(absl::StrCat("partition ", partition, " is not in the ring (",
                                                   node.ring.partition_count(), " partitions)"));
  }
  const std::vector<std::string>& home = node.ring.ForPartition(partition).home;
  if (std::find(home.begin(), home.end(), node.self()) == home.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat(node.self(), " is not a home replica of partition ", partition));
  }
  return absl::OkStatus();
}

absl::Status AddChildren(const MerkleTree& tree, const pb::ExchangeRequest& request,
                         pb::ExchangeResponse* response) {
  if (request.level() < 0 || request.level() >= MerkleTree::kLevels - 1) {
    return absl::InvalidArgumentError(absl::StrCat("tree level ", request.level(),
                                                   " has no children (levels 0 to ",
                                                   MerkleTree::kLevels - 2, " do)"));
  }
  for (uint32_t index : request.nodes()) {
    if (index >= NodesAtLevel(request.level())) {
      return absl::InvalidArgumentError(
          absl::StrCat("tree level ", request.level(), " has no node ", index));
    }
    for (uint64_t h : tree.Children(request.level(), index)) response->add_children(h);
  }
  return absl::OkStatus();
}

// This node's objects of `partition` in `segments`, segment by segment,
// through the store's segment index.
absl::Status ListSegments(NodeContext& node, uint32_t partition,
                          const std::vector<uint32_t>& segments, pb::ExchangeResponse* response) {
  const auto [first, last] = node.ring.HashRangeOf(partition);
  const size_t budget = kExchangePageBytes;
  size_t bytes = 0;
  for (uint32_t segment : segments) {
    if (response->segments_complete() > 0 && bytes >= budget) break;
    const int before = response->entries_size();
    size_t segment_bytes = 0;
    std::set<std::string, std::less<>> stored;
    RETURN_IF_ERROR(node.store->ForEachObjectInSegment(
        segment, first, last, [&](absl::string_view key, const Object& object) {
          pb::ExchangeEntry* entry = response->add_entries();
          entry->set_key(std::string(key));
          ToProto(object, entry->mutable_object());
          segment_bytes += entry->ByteSizeLong();
          stored.emplace(key);
        }));
    // The tombstones purged lately, of keys not written again since.
    for (const auto& [key, tombstone] :
         node.purged_keys.InSegment(segment, first, last, node.clock->Now())) {
      if (stored.count(key) > 0) continue;
      pb::ExchangeEntry* entry = response->add_entries();
      entry->set_key(key);
      ToProto(tombstone, entry->mutable_object());
      entry->set_purged(true);
      segment_bytes += entry->ByteSizeLong();
    }
    if (response->segments_complete() > 0 && bytes + segment_bytes > budget) {
      // Past the page: this segment waits for the next one.
      response->mutable_entries()->DeleteSubrange(before, response->entries_size() - before);
      break;
    }
    bytes += segment_bytes;
    response->set_segments_complete(response->segments_complete() + 1);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<pb::ExchangeResponse> AnswerExchange(NodeContext& node,
                                                    const pb::ExchangeRequest& request) {
  pb::ExchangeResponse response;
  if (request.survey()) {
    ASSIGN_OR_RETURN(*response.mutable_survey(),
                     AnswerSurvey(*node.hints, *node.store, node.empty_start));
    return response;
  }
  RETURN_IF_ERROR(CheckPartitionHome(node, request.partition()));
  response.set_may_lack_writes(node.MayLackWritesIn(request.partition()));
  if (request.segments().empty()) {
    const MerkleTree tree = node.trees.Tree(request.partition());
    response.set_root(tree.root());
    if (request.level() == 0 && request.asker_root() == tree.root()) return response;
    RETURN_IF_ERROR(AddChildren(tree, request, &response));
    return response;
  }
  std::vector<uint32_t> segments;
  for (uint32_t s : request.segments()) {
    if (s >= MerkleTree::kSegments) {
      return absl::InvalidArgumentError(
          absl::StrCat("segment ", s, " is not in the tree (", MerkleTree::kSegments, ")"));
    }
    segments.push_back(s);
  }
  RETURN_IF_ERROR(ListSegments(node, request.partition(), segments, &response));
  return response;
}

}  // namespace quorumkv
