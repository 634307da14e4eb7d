// One quorumkv node's replication logic, free of I/O: it coordinates client
// requests and serves the replica protocol from its ReplicaStore. kvnode
// wires it to gRPC and RocksDB; the simulator to a seeded network and
// in-memory stores.
//
// ReplicaNode wires the parts a reader looks for, each its own class over
// the state they share (node_context.h):
//   PutPath (put_path.h)               a client put, from checks to W acks
//   GetPath (get_path.h)               a client get, from fan-out to repair
//   ReplicaProtocol (replica_protocol.h) the reads, merges and pings peers ask
//   ClusterStatus (cluster_status.h)   the round behind `kvctl status`
// and runs the background work itself (Tick): pings for the failure
// detector, the empty-start check, and hinted handoff.
#ifndef QUORUMKV_REPLICATION_REPLICA_NODE_H_
#define QUORUMKV_REPLICATION_REPLICA_NODE_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/config.pb.h"
#include "proto/kv.pb.h"
#include "proto/replica.pb.h"
#include "replication/anti_entropy.h"
#include "replication/clock.h"
#include "replication/cluster_status.h"
#include "replication/get_path.h"
#include "replication/hints.h"
#include "replication/node_context.h"
#include "replication/put_path.h"
#include "replication/replica_protocol.h"
#include "replication/replica_store.h"
#include "replication/transport.h"

namespace quorumkv {

// Thread-safe. Does not own the store, hints, transport or clock; they must outlive
// it, and the transport must have run every callback before it is destroyed.
class ReplicaNode {
 public:
  using PutDone = PutPath::Done;
  using GetDone = GetPath::Done;

  static absl::StatusOr<std::unique_ptr<ReplicaNode>> Create(ReplicaNodeOptions options,
                                                             ReplicaStore* store, Hints* hints,
                                                             Transport* transport, Clock* clock);

  // The client API: PutPath::Put, GetPath::Get, ClusterStatus::Report.
  void Put(const pb::PutRequest& request, absl::Time deadline, PutDone done) {
    puts_.Put(request, deadline, std::move(done));
  }
  void Get(const pb::GetRequest& request, absl::Time deadline, GetDone done) {
    gets_.Get(request, deadline, std::move(done));
  }
  void Status(std::function<void(pb::StatusResponse)> done) { status_.Report(std::move(done)); }
  pb::RingResponse RingInfo() const;
  // kvctl repair: asks for an anti-entropy round (request.start) and tells
  // how the running or last round went. INVALID_ARGUMENT for a partition
  // not in the ring.
  absl::StatusOr<pb::RepairResponse> Repair(const pb::RepairRequest& request);

  // Background work, to be called every few tens of milliseconds from a
  // thread that may block: pings peers that are due, records what their
  // answers say of an empty start, hands hints back.
  void Tick();
  // Anti-entropy's share (anti_entropy.h), apart from Tick so that a node
  // may run it on a thread of its own: rounds block on the store.
  void AntiEntropyTick() { anti_entropy_.Tick(node_->clock->Now()); }
  AntiEntropy& anti_entropy() { return anti_entropy_; }
  // Its failure detector's state of each peer now (the node's metrics).
  std::vector<std::pair<std::string, PeerState>> PeerStates() const;

  // The replica protocol (replica_protocol.h), and puts forwarded by nodes
  // that are not home replicas (put_path.h).
  absl::StatusOr<pb::ReplicaReadResponse> HandleRead(const pb::ReplicaReadRequest& request) {
    return protocol_.HandleRead(request);
  }
  pb::ReplicaReadBatchResponse HandleReadBatch(const pb::ReplicaReadBatchRequest& request) {
    return protocol_.HandleReadBatch(request);
  }
  absl::StatusOr<pb::ReplicaWriteResponse> HandleWrite(const pb::ReplicaWriteRequest& request) {
    return protocol_.HandleWrite(request);
  }
  pb::ReplicaWriteBatchResponse HandleWriteBatch(const pb::ReplicaWriteBatchRequest& request) {
    return protocol_.HandleWriteBatch(request);
  }
  static bool CarriesHints(const pb::ReplicaWriteBatchRequest& request) {
    return ReplicaProtocol::CarriesHints(request);
  }
  void MergeWriteBatch(const pb::ReplicaWriteBatchRequest& request,
                       std::function<void(pb::ReplicaWriteBatchResponse)> done) {
    protocol_.MergeWriteBatch(request, std::move(done));
  }
  pb::PingResponse HandlePing(const pb::PingRequest& request) {
    return protocol_.HandlePing(request);
  }
  absl::StatusOr<pb::ExchangeResponse> HandleExchange(const pb::ExchangeRequest& request) {
    return AnswerExchange(*node_, request);
  }
  void HandleCoordinatePut(const pb::CoordinatePutRequest& request, absl::Time deadline,
                           std::function<void(pb::CoordinatePutResponse)> done) {
    puts_.HandleCoordinatePut(request, deadline, std::move(done));
  }

  const std::string& self() const { return node_->self(); }
  const Ring& ring() const { return node_->ring; }
  const pb::ClusterConfig& config() const { return node_->config(); }
  const FailureDetector& failure_detector() const { return node_->detector; }
  HandoffStats handoff_stats() const { return node_->handoff.stats(); }
  // The Merkle trees of the partitions it holds objects of.
  const PartitionTrees& trees() const { return node_->trees; }

 private:
  explicit ReplicaNode(std::unique_ptr<NodeContext> node);

  // What a peer's answer to a ping says of this node and of the peer.
  void OnPingAnswer(const std::string& peer, const pb::PingResponse& reply);
  // Tick's share of the empty-start check: records the peers newly seen
  // holding data, and marks every partition if this node lost its data.
  void SettleEmptyStart();

  const std::unique_ptr<NodeContext> node_;
  ReplicaProtocol protocol_;
  PutPath puts_;
  GetPath gets_;
  ClusterStatus status_;
  AntiEntropy anti_entropy_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_REPLICA_NODE_H_
