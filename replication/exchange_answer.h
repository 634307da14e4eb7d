// The answering side of anti-entropy (anti_entropy.h drives the rounds):
// what a home replica of a ring partition tells a peer that compares with
// it — the hashes of tree nodes, or its objects in some segments.
#ifndef QUORUMKV_REPLICATION_EXCHANGE_ANSWER_H_
#define QUORUMKV_REPLICATION_EXCHANGE_ANSWER_H_

#include <cstddef>

#include "absl/status/statusor.h"
#include "proto/config.pb.h"
#include "proto/replica.pb.h"
#include "replication/node_context.h"

namespace quorumkv {

// A reply lists whole segments up to this many bytes (always the first
// one asked, whatever its size); the rest waits for the next round, and
// the exchange counts as incomplete.
inline constexpr size_t kMaxExchangeReplyBytes = 4 << 20;
// The budget with `config`'s object size: below the smallest message limit
// a node sets, so a reply of whole segments still fits (but for a first
// segment larger than it alone).
size_t ExchangeReplyBudget(const pb::ClusterConfig& config);

// This node's answer to a peer's ExchangeRequest: the hashes of the tree
// nodes asked for, or its objects in the segments asked for.
// FAILED_PRECONDITION if it is not a home replica of the partition;
// INVALID_ARGUMENT for a level, node or segment out of range. May block on
// the store (a listing reads the objects of the segments asked for, through
// the store's segment index).
absl::StatusOr<pb::ExchangeResponse> AnswerExchange(NodeContext& node,
                                                    const pb::ExchangeRequest& request);

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_EXCHANGE_ANSWER_H_
