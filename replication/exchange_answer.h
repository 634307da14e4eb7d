// The answering side of anti-entropy (anti_entropy.h drives the rounds):
// what a home replica of a ring partition tells a peer that compares with
// it — the hashes of tree nodes, or its objects in some segments.
#ifndef QUORUMKV_REPLICATION_EXCHANGE_ANSWER_H_
#define QUORUMKV_REPLICATION_EXCHANGE_ANSWER_H_

#include <cstddef>

#include "absl/status/statusor.h"
#include "proto/replica.pb.h"
#include "replication/node_context.h"

namespace quorumkv {

// A listing reply is a page: whole segments up to this many bytes (always
// the first one asked, whatever its size); the asker asks for the rest in
// the next page once it has merged this one. Small pages keep each reply
// quick to build, send and parse (the asker's transport thread parses it,
// between the replies of client reads) and pace the listing by the merges.
inline constexpr size_t kExchangePageBytes = 64 << 10;

// This node's answer to a peer's ExchangeRequest: the hashes of the tree
// nodes asked for, or its objects in the segments asked for, or (asked by
// any node) its answer to a survey (freshness.h).
// FAILED_PRECONDITION if it is not a home replica of the partition;
// INVALID_ARGUMENT for a level, node or segment out of range. May block on
// the store (a listing reads the objects of the segments asked for, through
// the store's segment index).
absl::StatusOr<pb::ExchangeResponse> AnswerExchange(NodeContext& node,
                                                    const pb::ExchangeRequest& request);

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_EXCHANGE_ANSWER_H_
