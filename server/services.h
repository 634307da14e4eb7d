// The gRPC services of kvnode: the client API (KvService), the replica
// protocol (ReplicaService) and fault injection (AdminService). The first
// two answer UNAVAILABLE until the node is ready. No reactor blocks on
// fsync: gets and replica reads run on gRPC's threads (a lookup in memory
// or mapped files; only a miss past the page cache reads the disk there),
// puts too up to their write group (which the writer thread writes), and
// replica writes go to the replica pool.
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
#include "server/delay_queue.h"
#include "server/worker_pool.h"

namespace quorumkv {

// Longest a request may run when its client set no deadline.
inline constexpr absl::Duration kDefaultRequestTimeout = absl::Seconds(30);
// Client requests a node coordinates at once, queued or waiting for
// replicas; past it, new ones are shed with RESOURCE_EXHAUSTED.
inline constexpr int kMaxClientRequestsInFlight = 4096;

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
  WorkerPool* replica_pool = nullptr;   // writes from other nodes
  std::atomic<int> client_requests{0};  // admitted, not yet answered
  LinkFaults link_faults;
  DelayQueue* delays = nullptr;  // runs requests a link delay holds back
  bool allow_fault_injection = false;
};

class KvServiceImpl final : public v1::KvService::CallbackService {
 public:
  explicit KvServiceImpl(ServiceContext* context) : context_(context) {}

  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* ctx, const v1::GetRequest* request,
                                v1::GetResponse* response) override;
  grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext* ctx, const v1::PutRequest* request,
                                v1::PutResponse* response) override;
  grpc::ServerUnaryReactor* Delete(grpc::CallbackServerContext* ctx,
                                   const v1::DeleteRequest* request,
                                   v1::PutResponse* response) override;
  grpc::ServerUnaryReactor* Ring(grpc::CallbackServerContext* ctx, const v1::RingRequest* request,
                                 v1::RingResponse* response) override;
  grpc::ServerUnaryReactor* Status(grpc::CallbackServerContext* ctx,
                                   const v1::StatusRequest* request,
                                   v1::StatusResponse* response) override;

 private:
  grpc::ServerUnaryReactor* CoordinatePut(grpc::CallbackServerContext* ctx, v1::PutRequest request,
                                          v1::PutResponse* response);
  ServiceContext* const context_;
};

class ReplicaServiceImpl final : public v1::ReplicaService::CallbackService {
 public:
  explicit ReplicaServiceImpl(ServiceContext* context) : context_(context) {}

  grpc::ServerUnaryReactor* Read(grpc::CallbackServerContext* ctx,
                                 const v1::ReplicaReadRequest* request,
                                 v1::ReplicaReadResponse* response) override;
  // Answers each read as Read would, in order, until the reply is full
  // (ReplicaNode::HandleReadBatch).
  grpc::ServerUnaryReactor* ReadBatch(grpc::CallbackServerContext* ctx,
                                      const v1::ReplicaReadBatchRequest* request,
                                      v1::ReplicaReadBatchResponse* response) override;
  grpc::ServerUnaryReactor* Write(grpc::CallbackServerContext* ctx,
                                  const v1::ReplicaWriteRequest* request,
                                  v1::ReplicaWriteResponse* response) override;
  // Applies each write as Write would, durable together with one fsync.
  grpc::ServerUnaryReactor* WriteBatch(grpc::CallbackServerContext* ctx,
                                       const v1::ReplicaWriteBatchRequest* request,
                                       v1::ReplicaWriteBatchResponse* response) override;
  grpc::ServerUnaryReactor* CoordinatePut(grpc::CallbackServerContext* ctx,
                                          const v1::CoordinatePutRequest* request,
                                          v1::CoordinatePutResponse* response) override;
  grpc::ServerUnaryReactor* Ping(grpc::CallbackServerContext* ctx, const v1::PingRequest* request,
                                 v1::PingResponse* response) override;

 private:
  ServiceContext* const context_;
};

class AdminServiceImpl final : public v1::AdminService::CallbackService {
 public:
  explicit AdminServiceImpl(ServiceContext* context) : context_(context) {}

  // PERMISSION_DENIED unless the node allows fault injection.
  grpc::ServerUnaryReactor* SetFaults(grpc::CallbackServerContext* ctx,
                                      const v1::SetFaultsRequest* request,
                                      v1::SetFaultsResponse* response) override;

 private:
  ServiceContext* const context_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_SERVER_SERVICES_H_
