// One quorumkv node's replication logic, free of I/O: it coordinates client
// requests (driving PutCoordinator and GetCoordinator over a Transport) and
// serves the replica protocol from its ReplicaStore. kvnode wires it to gRPC
// and RocksDB; the simulator to a seeded network and in-memory stores.
//
// The path of a put: validate (nothing written on error) -> if this node is
// not a home replica of the key, forward to one -> issue a dot and apply the
// write to the local replica in one atomic, durable step -> send the new
// object to the other home replicas, which merge it (in a sloppy put, a
// healthy fallback stands in for an unhealthy or failing home and keeps a
// hint) -> reply after W acks.
//
// The path of a get: ask every home replica (the local one directly; in a
// sloppy get, fallbacks with hints stand in for unhealthy ones) -> merge
// the replies -> reply after R answered -> repair the home replicas whose
// state lacked something of the merge.
//
// In the background (Tick): ping peers for the failure detector, and hand
// hints back to home replicas that are up again.
#ifndef QUORUMKV_REPLICATION_REPLICA_NODE_H_
#define QUORUMKV_REPLICATION_REPLICA_NODE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/config.pb.h"
#include "proto/kv.pb.h"
#include "proto/replica.pb.h"
#include "replication/clock.h"
#include "replication/failure_detector.h"
#include "replication/handoff.h"
#include "replication/health_tracking_transport.h"
#include "replication/hlc.h"
#include "replication/object.h"
#include "replication/quorum_slots.h"
#include "replication/replica_store.h"
#include "replication/ring.h"
#include "replication/transport.h"

namespace quorumkv {

namespace pb = ::quorumkv::v1;

// Live siblings at which a write logs a warning, and past which a write that
// adds one more is refused with FAILED_PRECONDITION.
inline constexpr size_t kSiblingWarnThreshold = 25;
inline constexpr size_t kMaxSiblings = 100;
// Time a peer has to answer a status ping.
inline constexpr absl::Duration kStatusPingTimeout = absl::Milliseconds(500);
// A replica refuses a merge whose siblings would hold more value bytes than
// this many times max_object_bytes (coordinators refuse writes past 1x;
// merges of concurrent writes can exceed it). Messages are sized to fit.
inline constexpr uint64_t kMergedObjectFactor = 3;

struct ReplicaNodeOptions {
  std::string self;          // this node's id
  pb::ClusterConfig config;  // validated (ApplyDefaultsAndValidate)
};

// Thread-safe. Does not own the store, transport or clock; they must outlive
// it, and the transport must have run every callback before it is destroyed.
class ReplicaNode {
 public:
  using PutDone = std::function<void(absl::Status, pb::PutResponse)>;
  using GetDone = std::function<void(absl::Status, pb::GetResponse)>;

  static absl::StatusOr<std::unique_ptr<ReplicaNode>> Create(ReplicaNodeOptions options,
                                                             ReplicaStore* store,
                                                             Transport* transport, Clock* clock);

  // Coordinates a client put, or a delete when request.tombstone(). May
  // block on the local store, so call it from a thread that may block.
  // `done` runs exactly once, maybe on another thread; the response carries
  // the quorum metadata whatever the status.
  void Put(const pb::PutRequest& request, absl::Time deadline, PutDone done);
  // Coordinates a client get. Same threading as Put. A key that R replicas
  // do not have is OK with found=false.
  void Get(const pb::GetRequest& request, absl::Time deadline, GetDone done);
  // Reports each node's state as this node's failure detector sees it, and
  // the hints every node holds for it (asked with a ping).
  void Status(std::function<void(pb::StatusResponse)> done);
  pb::RingResponse RingInfo() const;

  // Background work, to be called every few tens of milliseconds from a
  // thread that may block: pings peers that are due, hands hints back.
  void Tick();

  // Replica protocol. Synchronous; may block on the store.
  absl::StatusOr<pb::ReplicaReadResponse> HandleRead(const pb::ReplicaReadRequest& request);
  absl::StatusOr<pb::ReplicaWriteResponse> HandleWrite(const pb::ReplicaWriteRequest& request);
  // Coordinates a put forwarded by a node that is not a home replica.
  // Same threading as Put.
  void HandleCoordinatePut(const pb::CoordinatePutRequest& request, absl::Time deadline,
                           std::function<void(pb::CoordinatePutResponse)> done);
  pb::PingResponse HandlePing(const pb::PingRequest& request);

  const std::string& self() const { return options_.self; }
  const Ring& ring() const { return ring_; }
  const pb::ClusterConfig& config() const { return options_.config; }
  const FailureDetector& failure_detector() const { return detector_; }
  HandoffStats handoff_stats() const { return handoff_.stats(); }

 private:
  struct LocalWrite;
  struct ForwardState;

  ReplicaNode(ReplicaNodeOptions options, Ring ring, ReplicaStore* store, Transport* transport,
              Clock* clock);

  void CoordinatePut(const pb::PutRequest& request, absl::Time deadline, bool forwarded,
                     PutDone done);
  absl::StatusOr<LocalWrite> ApplyLocalWrite(const pb::PutRequest& request,
                                             const VersionVector& context);
  void ForwardPut(std::shared_ptr<ForwardState> state);
  absl::Status MergeIntoReplica(const std::string& key, const Object& incoming);
  absl::Status MergeIntoHint(const std::string& home, const std::string& key,
                             const Object& incoming);
  // The peer may take requests: the failure detector calls it up.
  QuorumSlots::Healthy HealthyFn() const;
  // The home replicas a forwarded put tries, healthy ones first.
  std::vector<std::string> ForwardCandidates(const std::vector<std::string>& home) const;
  // FAILED_PRECONDITION unless this node is a home replica of `key`.
  absl::Status CheckHome(const std::string& key) const;
  MergePolicy PolicyFor(absl::string_view key) const;
  // The deadline for a replica call of a request due at `deadline`: a bit
  // earlier, so the coordinator can still answer in time, and no later than
  // replica_timeout_ms from now.
  absl::Time ReplicaDeadline(absl::Time deadline);

  const ReplicaNodeOptions options_;
  const Ring ring_;
  ReplicaStore* const store_;
  Clock* const clock_;
  HybridClock hlc_;
  FailureDetector detector_;
  // Every call goes through it, so that every answer informs the detector.
  HealthTrackingTransport transport_;
  HandoffManager handoff_;
};

// Fills found, siblings and context of a get response from a merged object.
// REQUIRES: response->key() is set (the context is bound to it).
void FillGetResponse(const Object& merged, pb::GetResponse* response);

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_REPLICA_NODE_H_
