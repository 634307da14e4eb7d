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
#include "replication/empty_start.h"
#include "replication/failure_detector.h"
#include "replication/handoff.h"
#include "replication/health_tracking_transport.h"
#include "replication/hlc.h"
#include "replication/object.h"
#include "replication/quorum_slots.h"
#include "replication/replica_store.h"
#include "replication/ring.h"
#include "replication/transport.h"
#include "replication/write_group.h"

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
// A replica's answer to a batch of reads holds about this much at most.
inline constexpr uint64_t kMaxReadBatchReplyBytes = 4 << 20;

struct ReplicaNodeOptions {
  std::string self;          // this node's id
  pb::ClusterConfig config;  // validated (ApplyDefaultsAndValidate)
  // Where the coordinator's group-committed writes block on disk
  // (write_group.h). Unset: on the thread of the put that starts a group.
  WriteGroup::RunBlocking run_blocking;
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

  // Coordinates a client put, or a delete when request.tombstone(). Blocks
  // on the local store only without options.run_blocking (or when it
  // refuses work). `done` runs exactly once, maybe on another thread; the
  // response carries the quorum metadata whatever the status.
  void Put(const pb::PutRequest& request, absl::Time deadline, PutDone done);
  // Coordinates a client get; reads the local store on the calling thread.
  // `done` as Put's. A key that R replicas do not have is OK with
  // found=false.
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
  // hint is answered INTERNAL, writing nothing: such batches go through
  // HandleWriteBatch (CarriesHints), on a thread that may block.
  void MergeWriteBatch(const pb::ReplicaWriteBatchRequest& request,
                       std::function<void(pb::ReplicaWriteBatchResponse)> done);
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
  struct CoordinatedPut;

  ReplicaNode(ReplicaNodeOptions options, Ring ring, ReplicaStore* store, Transport* transport,
              Clock* clock);

  void CoordinatePut(const pb::PutRequest& request, absl::Time deadline, bool forwarded,
                     PutDone done);
  // Writes `put` to this node's replica, then sends it to the other home
  // replicas and answers after W acks; or, if its context names writes this
  // replica has not seen, first asks the other home replicas.
  void WriteAndReplicate(std::shared_ptr<CoordinatedPut> put);
  void CheckContextThenWrite(std::shared_ptr<CoordinatedPut> put);
  // Why a put whose context names `unseen` (writes neither this replica nor
  // the homes it asked have seen) cannot be written: INVALID_ARGUMENT for a
  // context this cluster did not issue, UNAVAILABLE when it could not be
  // checked, ABORTED when the other home replicas are still to be asked.
  absl::Status CheckUnseen(const std::vector<Dot>& unseen, const CoordinatedPut& put) const;
  // The coordinator's own write of a put, in the next write group; `done`
  // runs once it is durable (or failed, writing nothing: also when the
  // group is written after the put's deadline).
  void ApplyLocalWrite(std::shared_ptr<const CoordinatedPut> put,
                       std::function<void(absl::StatusOr<LocalWrite>)> done);
  void ForwardPut(std::shared_ptr<ForwardState> state);
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
  // it keeps of it for every home; nullopt if it keeps none.
  absl::StatusOr<std::optional<Object>> MergedHintsOf(const std::string& key);
  // The mutation that merges `incoming` into this node's replica of `key`.
  WriteGroup::Mutate ReplicaMerge(const std::string& key, Object incoming) const;
  // The peer may take requests: the failure detector calls it up.
  QuorumSlots::Healthy HealthyFn() const;
  // The home replicas a forwarded put tries, healthy ones first.
  std::vector<std::string> ForwardCandidates(const std::vector<std::string>& home) const;
  // FAILED_PRECONDITION unless this node is a home replica of `key`.
  absl::Status CheckHome(const std::string& key) const;
  // Whether this node's replica of `key` may lack writes it acknowledged:
  // the key's partition is marked for repair (after a restart that lost
  // writes, every partition is), or the node started on an empty directory
  // and does not know yet whether it held data before.
  bool MayLackWrites(const std::string& key) const;
  // What a peer's answer to a ping says of this node and of the peer.
  void OnPingAnswer(const std::string& peer, const pb::PingResponse& reply);
  // Tick's share of the empty-start check: records the peers newly seen
  // holding data, and marks every partition if this node lost its data.
  void SettleEmptyStart();
  // For a strict request that needs `required` home replicas of `home`:
  // UNAVAILABLE when the failure detector already knows too many of them
  // are down for the quorum to be met, so that it is refused before
  // anything is sent. `param` is "R" or "W"; `untouched` says what was
  // spared ("nothing written").
  absl::Status CheckStrictQuorumReachable(const std::vector<std::string>& home, uint32_t required,
                                          absl::string_view param,
                                          absl::string_view untouched) const;
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
  // The local writes of the puts this node coordinates and the merges of
  // MergeWriteBatch, group-committed.
  WriteGroup write_group_;
  // Whether an empty start was a wiped disk, and what this node answers
  // peers asking the same (empty_start.h).
  EmptyStartCheck empty_start_;
  PeersHoldingData peers_holding_data_;
};

// Fills found, siblings and context of a get response from a merged object.
// REQUIRES: response->key() is set (the context is bound to it).
void FillGetResponse(const Object& merged, pb::GetResponse* response);

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_REPLICA_NODE_H_
