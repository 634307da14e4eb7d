// A node's side of the replica protocol: the reads and merges a coordinator
// asks of it, for a key this node is a home replica of or holds a hint of,
// and the answer to a ping.
#ifndef QUORUMKV_REPLICATION_REPLICA_PROTOCOL_H_
#define QUORUMKV_REPLICATION_REPLICA_PROTOCOL_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/replica.pb.h"
#include "replication/node_context.h"
#include "replication/object.h"
#include "replication/write_group.h"

namespace quorumkv {

// Thread-safe. Synchronous handlers may block on the store. Does not own
// `node`, which must outlive it.
class ReplicaProtocol {
 public:
  explicit ReplicaProtocol(NodeContext* node) : node_(node) {}

  absl::StatusOr<pb::ReplicaReadResponse> HandleRead(const pb::ReplicaReadRequest& request);
  // Each read as HandleRead would, until the reply holds
  // kMaxReadBatchReplyBytes (or max_object_bytes, if less): the reads
  // after that are marked not_run, for the sender to ask again.
  pb::ReplicaReadBatchResponse HandleReadBatch(const pb::ReplicaReadBatchRequest& request);
  absl::StatusOr<pb::ReplicaWriteResponse> HandleWrite(const pb::ReplicaWriteRequest& request);
  // Each write as HandleWrite would; the merges into this node's replicas
  // are made durable together, with one synced write (group commit).
  pb::ReplicaWriteBatchResponse HandleWriteBatch(const pb::ReplicaWriteBatchRequest& request);
  // Whether a write of `request` is for a hint (a fallback standing in for
  // a home replica): MergeWriteBatch does not take those.
  static bool CarriesHints(const pb::ReplicaWriteBatchRequest& request);
  // Each write as HandleWriteBatch would, asynchronously: the merges join
  // this node's write groups beside the puts it coordinates, so that one
  // synced write makes both durable. `done` gets the reply once every
  // merge is durable or failed, on the writer's thread (with no
  // run_blocking, on this thread before the call returns). A write for a
  // hint is an invariant failure (invariant.h), writing nothing: such
  // batches go through HandleWriteBatch (CarriesHints), on a thread that
  // may block.
  void MergeWriteBatch(const pb::ReplicaWriteBatchRequest& request,
                       std::function<void(pb::ReplicaWriteBatchResponse)> done);
  // What this node says of itself to a pinging peer: hints, repair marks,
  // data and actor, invariant failures; and what it has seen of the peer.
  pb::PingResponse HandlePing(const pb::PingRequest& request);

 private:
  // The object a replica write carries, once its key, object and target
  // (home replica, or fallback of the home it names) are checked.
  absl::StatusOr<Object> CheckWrite(const pb::ReplicaWriteRequest& write);
  // Merges incoming[i] into this node's replica of request.writes(i).key()
  // for each i in `which`, in one UpdateBatch; sets (*outcomes)[i].
  void MergeIntoReplicas(const pb::ReplicaWriteBatchRequest& request, const std::vector<int>& which,
                         std::vector<Object> incoming, std::vector<absl::Status>* outcomes);
  absl::Status MergeIntoHint(const std::string& home, const std::string& key,
                             const Object& incoming);
  // What this node, as a fallback, knows of `key`: the merge of the hints
  // it keeps of it for every home, but those past an age limit, which it
  // drops (HandoffManager::DropIfExpired); nullopt if none is left.
  absl::StatusOr<std::optional<Object>> MergedHintsOf(const std::string& key);
  // The mutation that merges `incoming` into this node's replica of `key`.
  WriteGroup::Mutate ReplicaMerge(const std::string& key, Object incoming) const;

  NodeContext* const node_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_REPLICA_PROTOCOL_H_
