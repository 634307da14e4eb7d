// The gRPC services of kvnode: the client API (KvService), the replica
// protocol (ReplicaService) and fault injection (AdminService). The first
// two answer UNAVAILABLE until the node is ready. Nothing on a completion
// queue's thread blocks on fsync: gets and replica reads run there (a
// lookup in memory or mapped files; only a miss past the page cache reads
// the disk there), puts too up to their write group (which the writer
// thread writes), and replica writes go to the replica pool.
#ifndef QUORUMKV_SERVER_SERVICES_H_
#define QUORUMKV_SERVER_SERVICES_H_

#include <atomic>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "proto/admin.grpc.pb.h"
#include "proto/kv.grpc.pb.h"
#include "proto/replica.grpc.pb.h"
#include "replication/clock.h"
#include "replication/replica_node.h"
#include "server/caller_policy.h"
#include "server/completion_queue.h"
#include "server/delay_queue.h"
#include "server/metrics.h"
#include "server/shed_log.h"
#include "server/system_clock.h"
#include "server/worker_pool.h"
#include "storage/fault_injection_engine.h"

namespace quorumkv {

// Longest a request may run when its client set no deadline.
inline constexpr absl::Duration kDefaultRequestTimeout = absl::Seconds(30);
// Client requests a node coordinates at once, queued or waiting for
// replicas; past it, new ones are shed with RESOURCE_EXHAUSTED.
inline constexpr int kMaxClientRequestsInFlight = 4096;
// Replica write batches of other nodes a node holds in its write groups at
// once; past it, new ones are shed with RESOURCE_EXHAUSTED. (A batch
// carries at most CallBatcher's kMaxBatch writes.)
inline constexpr int kMaxReplicaBatchesInFlight = 1024;

// Latency injected on links into this node, by source node ("*": all).
// Thread-safe.
class LinkFaults {
 public:
  void Replace(std::map<std::string, absl::Duration> delays);
  absl::Duration DelayFrom(const std::string& from) const;

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, absl::Duration> delays_ ABSL_GUARDED_BY(mu_);
};

// What the services run on. The node pointer is published once storage is
// open; everything else outlives the services.
struct ServiceContext {
  std::atomic<ReplicaNode*> node{nullptr};
  Clock* clock = nullptr;
  WorkerPool* replica_pool = nullptr;      // writes of other nodes to hints
  WorkerPool* repair_pool = nullptr;       // answers to anti-entropy exchanges, niced
  std::atomic<int> client_requests{0};     // admitted, not yet answered
  std::atomic<uint64_t> client_bytes{0};   // their bytes
  uint64_t max_client_bytes = UINT64_MAX;  // the config's max_request_bytes_in_flight
  std::atomic<int> replica_batches{0};     // in the write groups, not yet answered
  LinkFaults link_faults;
  DelayQueue* delays = nullptr;  // runs requests a link delay holds back
  bool allow_fault_injection = false;
  // Who may call each service (TLS identities).
  CallerPolicy callers;
  NodeMetrics* metrics = nullptr;  // null: not counted
  ShedLog shed_log;                // shed requests, logged once per episode
  // With fault injection: the node's disk (its writes fail on disk_full)
  // and clock (skewed on clock_skew_ms).
  FaultInjectionEngine* disk = nullptr;
  SystemClock* system_clock = nullptr;
};

// Each service serves every method on the completion queues it is given
// (completion_queue.h); handlers run on a queue's thread.
class KvServiceImpl final : public v1::KvService::AsyncService {
 public:
  explicit KvServiceImpl(ServiceContext* context) : context_(context) {}

  // Serves every method on `queue`; before the queue's thread starts.
  void ServeOn(grpc::ServerCompletionQueue* queue);

 private:
  // Each handler answers its call exactly once, possibly later from
  // another thread (a replica's answer, the writer thread). Client requests
  // past kMaxClientRequestsInFlight are shed with RESOURCE_EXHAUSTED before
  // anything is written; a request without a deadline gets
  // kDefaultRequestTimeout.
  // ReplicaNode::Get, on the queue's thread.
  void ServeGet(UnaryCall<v1::GetRequest, v1::GetResponse>* call);
  // ReplicaNode::Put, up to the write group on the queue's thread.
  void ServePut(UnaryCall<v1::PutRequest, v1::PutResponse>* call);
  // A put of a tombstone (ReplicaNode::Put with tombstone set).
  void ServeDelete(UnaryCall<v1::DeleteRequest, v1::PutResponse>* call);
  // The ring as this node holds it; answered at once.
  void ServeRing(UnaryCall<v1::RingRequest, v1::RingResponse>* call);
  // A status round (ReplicaNode::Status): answered once every peer answered
  // its ping or timed out.
  void ServeStatus(UnaryCall<v1::StatusRequest, v1::StatusResponse>* call);
  // ReplicaNode::Repair; answered at once (the round runs on the node's
  // anti-entropy thread).
  void ServeRepair(UnaryCall<v1::RepairRequest, v1::RepairResponse>* call);
  // Coordinates `request` and answers `call` with the result.
  template <typename Call>
  void CoordinatePut(Call* call, const v1::PutRequest& request);

  ServiceContext* const context_;
  UnaryMethods methods_;
};

class ReplicaServiceImpl final : public v1::ReplicaService::AsyncService {
 public:
  explicit ReplicaServiceImpl(ServiceContext* context) : context_(context) {}

  // Serves every method on `queue`; before the queue's thread starts.
  void ServeOn(grpc::ServerCompletionQueue* queue);

 private:
  // Each handler answers its call exactly once; a link delay injected on
  // the caller's link (AdminService) holds the call back first.
  // ReplicaNode::HandleRead, on the queue's thread.
  void ServeRead(UnaryCall<v1::ReplicaReadRequest, v1::ReplicaReadResponse>* call);
  // Answers each read as Read would, in order, until the reply is full
  // (ReplicaNode::HandleReadBatch).
  void ServeReadBatch(UnaryCall<v1::ReplicaReadBatchRequest, v1::ReplicaReadBatchResponse>* call);
  // ReplicaNode::HandleWrite, on the replica pool (it may block on fsync).
  void ServeWrite(UnaryCall<v1::ReplicaWriteRequest, v1::ReplicaWriteResponse>* call);
  // Applies each write as Write would, durable together with one fsync:
  // through the write groups (ReplicaNode::MergeWriteBatch), or on the
  // replica pool when it carries hints; shed past kMaxReplicaBatchesInFlight.
  void ServeWriteBatch(
      UnaryCall<v1::ReplicaWriteBatchRequest, v1::ReplicaWriteBatchResponse>* call);
  // A put forwarded by a node that is not a home replica of the key:
  // coordinated here as ServePut would.
  void ServeCoordinatePut(UnaryCall<v1::CoordinatePutRequest, v1::CoordinatePutResponse>* call);
  // ReplicaNode::HandlePing, on the queue's thread.
  void ServePing(UnaryCall<v1::PingRequest, v1::PingResponse>* call);
  // ReplicaNode::HandleExchange, on the replica pool (an object listing
  // reads the store).
  void ServeExchange(UnaryCall<v1::ExchangeRequest, v1::ExchangeResponse>* call);

  ServiceContext* const context_;
  UnaryMethods methods_;
};

class AdminServiceImpl final : public v1::AdminService::AsyncService {
 public:
  explicit AdminServiceImpl(ServiceContext* context) : context_(context) {}

  // Serves every method on `queue`; before the queue's thread starts.
  void ServeOn(grpc::ServerCompletionQueue* queue);

 private:
  // Reached only when the node allows fault injection, and by a fault
  // injector (ServeOn).
  void ServeSetFaults(UnaryCall<v1::SetFaultsRequest, v1::SetFaultsResponse>* call);

  ServiceContext* const context_;
  UnaryMethods methods_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_SERVER_SERVICES_H_
