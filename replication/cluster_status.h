// The cluster-status round behind `kvctl status`: each node's state as this
// node's failure detector sees it, and what every node says of itself to a
// ping (the hints it holds per home, its repair marks, its invariant
// failures).
#ifndef QUORUMKV_REPLICATION_CLUSTER_STATUS_H_
#define QUORUMKV_REPLICATION_CLUSTER_STATUS_H_

#include <functional>

#include "proto/kv.pb.h"
#include "replication/node_context.h"
#include "replication/replica_protocol.h"

namespace quorumkv {

// Thread-safe. Does not own `node` or `protocol`, which must outlive it and
// every round it started.
class ClusterStatus {
 public:
  ClusterStatus(NodeContext* node, ReplicaProtocol* protocol) : node_(node), protocol_(protocol) {}

  // Pings every peer (kStatusPingTimeout) and runs `done` once, when the
  // last answered or timed out, maybe on another thread.
  void Report(std::function<void(pb::StatusResponse)> done);

 private:
  NodeContext* const node_;
  ReplicaProtocol* const protocol_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_CLUSTER_STATUS_H_
