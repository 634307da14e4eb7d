// The gRPC services of kvnode: the client API (KvService) and the replica
// protocol (ReplicaService). Both hand work to a WorkerPool so that no
// reactor ever blocks, and answer UNAVAILABLE until the node is ready.
#ifndef QUORUMKV_SERVER_SERVICES_H_
#define QUORUMKV_SERVER_SERVICES_H_

#include <atomic>

#include "proto/kv.grpc.pb.h"
#include "proto/replica.grpc.pb.h"
#include "replication/clock.h"
#include "replication/replica_node.h"
#include "server/worker_pool.h"

namespace quorumkv {

// Longest a request may run when its client set no deadline.
inline constexpr absl::Duration kDefaultRequestTimeout = absl::Seconds(30);

// Client requests a node coordinates at once, queued or waiting for
// replicas; past it, new ones are shed with RESOURCE_EXHAUSTED.
inline constexpr int kMaxClientRequestsInFlight = 4096;

// What the services run on. The node pointer is published once storage is
// open; the pools and clock outlive the services.
struct ServiceContext {
  std::atomic<ReplicaNode*> node{nullptr};
  Clock* clock = nullptr;
  WorkerPool* client_pool = nullptr;    // client requests and forwarded puts
  WorkerPool* replica_pool = nullptr;   // reads and writes from other nodes
  std::atomic<int> client_requests{0};  // admitted, not yet answered
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
  grpc::ServerUnaryReactor* Write(grpc::CallbackServerContext* ctx,
                                  const v1::ReplicaWriteRequest* request,
                                  v1::ReplicaWriteResponse* response) override;
  grpc::ServerUnaryReactor* CoordinatePut(grpc::CallbackServerContext* ctx,
                                          const v1::CoordinatePutRequest* request,
                                          v1::CoordinatePutResponse* response) override;
  grpc::ServerUnaryReactor* Ping(grpc::CallbackServerContext* ctx, const v1::PingRequest* request,
                                 v1::PingResponse* response) override;

 private:
  ServiceContext* const context_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_SERVER_SERVICES_H_
