#include "server/services.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "proto/grpc_status_codec.h"
#include "server/grpc_transport.h"

namespace quorumkv {
namespace {

using Reactor = grpc::ServerUnaryReactor;

Reactor* FinishNow(grpc::CallbackServerContext* ctx, const absl::Status& status) {
  Reactor* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

absl::Status NotReady() {
  return absl::UnavailableError("node is starting: storage is not open yet");
}

absl::Time RequestDeadline(grpc::CallbackServerContext* ctx, Clock* clock) {
  return std::min(FromGrpcDeadline(clock, ctx->deadline()), clock->Now() + kDefaultRequestTimeout);
}

// Runs `work` on `pool`, which finishes the reactor; sheds the call with
// RESOURCE_EXHAUSTED if the pool's queue is full.
Reactor* Dispatch(grpc::CallbackServerContext* ctx, WorkerPool* pool,
                  std::function<void(Reactor*)> work) {
  Reactor* reactor = ctx->DefaultReactor();
  absl::Status queued = pool->Submit([reactor, work = std::move(work)] { work(reactor); });
  if (!queued.ok()) reactor->Finish(ToGrpcStatus(queued));
  return reactor;
}

// One admitted client request. It counts toward kMaxClientRequestsInFlight
// until its last copy, held by the reply callback, is destroyed.
class Admission {
 public:
  static std::shared_ptr<Admission> TryAdmit(std::atomic<int>* in_flight) {
    if (in_flight->fetch_add(1) >= kMaxClientRequestsInFlight) {
      in_flight->fetch_sub(1);
      return nullptr;
    }
    return std::shared_ptr<Admission>(new Admission(in_flight));
  }
  ~Admission() { in_flight_->fetch_sub(1); }

 private:
  explicit Admission(std::atomic<int>* in_flight) : in_flight_(in_flight) {}
  std::atomic<int>* const in_flight_;
};

using Admitted = std::shared_ptr<Admission>;

// Admits a client request and runs `work` on the client pool; sheds it with
// RESOURCE_EXHAUSTED when too many are in flight or the queue is full.
Reactor* DispatchClient(grpc::CallbackServerContext* ctx, ServiceContext* context,
                        std::function<void(Reactor*, Admitted)> work) {
  Admitted admitted = Admission::TryAdmit(&context->client_requests);
  if (admitted == nullptr) {
    return FinishNow(ctx, absl::ResourceExhaustedError(
                              absl::StrCat("overloaded: ", kMaxClientRequestsInFlight,
                                           " client requests in flight (the limit); retry later")));
  }
  return Dispatch(ctx, context->client_pool, [work = std::move(work), admitted](Reactor* reactor) {
    work(reactor, admitted);
  });
}

// A put's reply: the response travels in the body when OK, its quorum
// metadata in the error details otherwise.
ReplicaNode::PutDone FinishPut(Reactor* reactor, v1::PutResponse* response, Admitted admitted) {
  return [reactor, response, admitted](absl::Status status, v1::PutResponse result) {
    *response = std::move(result);
    reactor->Finish(ToGrpcStatus(status, &response->quorum()));
  };
}

}  // namespace

Reactor* KvServiceImpl::Get(grpc::CallbackServerContext* ctx, const v1::GetRequest* request,
                            v1::GetResponse* response) {
  ReplicaNode* node = context_->node.load();
  if (node == nullptr) return FinishNow(ctx, NotReady());
  const absl::Time deadline = RequestDeadline(ctx, context_->clock);
  // A copy: the node must not read gRPC's request after the reply is sent.
  return DispatchClient(
      ctx, context_,
      [node, request = *request, response, deadline](Reactor* reactor, Admitted admitted) {
        node->Get(request, deadline,
                  [reactor, response, admitted](absl::Status status, v1::GetResponse r) {
                    *response = std::move(r);
                    reactor->Finish(ToGrpcStatus(status, &response->quorum()));
                  });
      });
}

Reactor* KvServiceImpl::Put(grpc::CallbackServerContext* ctx, const v1::PutRequest* request,
                            v1::PutResponse* response) {
  return CoordinatePut(ctx, *request, response);
}

Reactor* KvServiceImpl::Delete(grpc::CallbackServerContext* ctx, const v1::DeleteRequest* request,
                               v1::PutResponse* response) {
  v1::PutRequest put;
  put.set_key(request->key());
  put.set_context(request->context());
  put.set_w(request->w());
  put.set_strict(request->strict());
  put.set_tombstone(true);
  return CoordinatePut(ctx, std::move(put), response);
}

Reactor* KvServiceImpl::CoordinatePut(grpc::CallbackServerContext* ctx, v1::PutRequest request,
                                      v1::PutResponse* response) {
  ReplicaNode* node = context_->node.load();
  if (node == nullptr) return FinishNow(ctx, NotReady());
  const absl::Time deadline = RequestDeadline(ctx, context_->clock);
  return DispatchClient(ctx, context_,
                        [node, request = std::move(request), response, deadline](
                            Reactor* reactor, Admitted admitted) {
                          node->Put(request, deadline, FinishPut(reactor, response, admitted));
                        });
}

Reactor* KvServiceImpl::Ring(grpc::CallbackServerContext* ctx, const v1::RingRequest*,
                             v1::RingResponse* response) {
  ReplicaNode* node = context_->node.load();
  if (node == nullptr) return FinishNow(ctx, NotReady());
  *response = node->RingInfo();
  return FinishNow(ctx, absl::OkStatus());
}

Reactor* KvServiceImpl::Status(grpc::CallbackServerContext* ctx, const v1::StatusRequest*,
                               v1::StatusResponse* response) {
  ReplicaNode* node = context_->node.load();
  if (node == nullptr) return FinishNow(ctx, NotReady());
  Reactor* reactor = ctx->DefaultReactor();
  node->Status([reactor, response](v1::StatusResponse r) {
    *response = std::move(r);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

Reactor* ReplicaServiceImpl::Read(grpc::CallbackServerContext* ctx,
                                  const v1::ReplicaReadRequest* request,
                                  v1::ReplicaReadResponse* response) {
  ReplicaNode* node = context_->node.load();
  if (node == nullptr) return FinishNow(ctx, NotReady());
  return Dispatch(ctx, context_->replica_pool, [=](Reactor* reactor) {
    absl::StatusOr<v1::ReplicaReadResponse> result = node->HandleRead(*request);
    if (result.ok()) *response = std::move(*result);
    reactor->Finish(ToGrpcStatus(result.status()));
  });
}

Reactor* ReplicaServiceImpl::Write(grpc::CallbackServerContext* ctx,
                                   const v1::ReplicaWriteRequest* request,
                                   v1::ReplicaWriteResponse* response) {
  ReplicaNode* node = context_->node.load();
  if (node == nullptr) return FinishNow(ctx, NotReady());
  return Dispatch(ctx, context_->replica_pool, [=](Reactor* reactor) {
    absl::StatusOr<v1::ReplicaWriteResponse> result = node->HandleWrite(*request);
    if (result.ok()) *response = std::move(*result);
    reactor->Finish(ToGrpcStatus(result.status()));
  });
}

Reactor* ReplicaServiceImpl::CoordinatePut(grpc::CallbackServerContext* ctx,
                                           const v1::CoordinatePutRequest* request,
                                           v1::CoordinatePutResponse* response) {
  ReplicaNode* node = context_->node.load();
  if (node == nullptr) return FinishNow(ctx, NotReady());
  const absl::Time deadline = RequestDeadline(ctx, context_->clock);
  return DispatchClient(
      ctx, context_,
      [node, request = *request, response, deadline](Reactor* reactor, Admitted admitted) {
        node->HandleCoordinatePut(request, deadline,
                                  [reactor, response, admitted](v1::CoordinatePutResponse r) {
                                    *response = std::move(r);
                                    reactor->Finish(grpc::Status::OK);
                                  });
      });
}

Reactor* ReplicaServiceImpl::Ping(grpc::CallbackServerContext* ctx, const v1::PingRequest* request,
                                  v1::PingResponse* response) {
  ReplicaNode* node = context_->node.load();
  if (node == nullptr) return FinishNow(ctx, NotReady());
  *response = node->HandlePing(*request);
  return FinishNow(ctx, absl::OkStatus());
}

}  // namespace quorumkv
