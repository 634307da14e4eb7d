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
void Submit(WorkerPool* pool, Reactor* reactor, std::function<void(Reactor*)> work) {
  absl::Status queued = pool->Submit([reactor, work = std::move(work)] { work(reactor); });
  if (!queued.ok()) reactor->Finish(ToGrpcStatus(queued));
}

// Starts `start` with the call's reactor, after the delay injected on the
// link from `from` to this node, if any.
Reactor* AfterLinkDelay(grpc::CallbackServerContext* ctx, ServiceContext* context,
                        const std::string& from, std::function<void(Reactor*)> start) {
  Reactor* reactor = ctx->DefaultReactor();
  const absl::Duration delay = context->link_faults.DelayFrom(from);
  if (delay <= absl::ZeroDuration()) {
    start(reactor);
    return reactor;
  }
  absl::Status queued =
      context->delays->RunAfter(delay, [reactor, start = std::move(start)] { start(reactor); });
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

// Admits a client request, or sheds it with RESOURCE_EXHAUSTED when too
// many are in flight (and returns null).
Admitted Admit(ServiceContext* context, Reactor* reactor) {
  Admitted admitted = Admission::TryAdmit(&context->client_requests);
  if (admitted == nullptr) {
    reactor->Finish(ToGrpcStatus(absl::ResourceExhaustedError(
        absl::StrCat("overloaded: ", kMaxClientRequestsInFlight,
                     " client requests in flight (the limit); retry later"))));
  }
  return admitted;
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

void LinkFaults::Replace(std::map<std::string, absl::Duration> delays) {
  absl::MutexLock lock(&mu_);
  delays_ = std::move(delays);
}

absl::Duration LinkFaults::DelayFrom(const std::string& from) const {
  absl::MutexLock lock(&mu_);
  if (delays_.empty() || from.empty()) return absl::ZeroDuration();
  auto it = delays_.find(from);
  if (it != delays_.end()) return it->second;
  it = delays_.find("*");
  return it == delays_.end() ? absl::ZeroDuration() : it->second;
}

Reactor* KvServiceImpl::Get(grpc::CallbackServerContext* ctx, const v1::GetRequest* request,
                            v1::GetResponse* response) {
  ReplicaNode* node = context_->node.load();
  if (node == nullptr) return FinishNow(ctx, NotReady());
  const absl::Time deadline = RequestDeadline(ctx, context_->clock);
  Reactor* reactor = ctx->DefaultReactor();
  Admitted admitted = Admit(context_, reactor);
  if (admitted == nullptr) return reactor;
  // On the reactor's thread: a get's local read is a memtable or block cache
  // lookup in the common case, and the hop to a pool thread cost more CPU
  // than the read itself (kvbench, docs/performance.md). Get reads the
  // request only before it starts the reads.
  node->Get(*request, deadline,
            [reactor, response, admitted](absl::Status status, v1::GetResponse got) {
              *response = std::move(got);
              reactor->Finish(ToGrpcStatus(status, &response->quorum()));
            });
  return reactor;
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
  Reactor* reactor = ctx->DefaultReactor();
  Admitted admitted = Admit(context_, reactor);
  if (admitted == nullptr) return reactor;
  // On the reactor's thread: the local write waits in a write group, which
  // blocks on the writer thread (NodeServer), not here.
  node->Put(request, deadline, FinishPut(reactor, response, admitted));
  return reactor;
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
  // On the reactor's thread, as a client get (see KvServiceImpl::Get).
  return AfterLinkDelay(ctx, context_, request->from(), [=](Reactor* reactor) {
    absl::StatusOr<v1::ReplicaReadResponse> result = node->HandleRead(*request);
    if (result.ok()) *response = std::move(*result);
    reactor->Finish(ToGrpcStatus(result.status()));
  });
}

Reactor* ReplicaServiceImpl::ReadBatch(grpc::CallbackServerContext* ctx,
                                       const v1::ReplicaReadBatchRequest* request,
                                       v1::ReplicaReadBatchResponse* response) {
  ReplicaNode* node = context_->node.load();
  if (node == nullptr) return FinishNow(ctx, NotReady());
  return AfterLinkDelay(ctx, context_, request->from(), [=](Reactor* reactor) {
    *response = node->HandleReadBatch(*request);
    reactor->Finish(grpc::Status::OK);
  });
}

Reactor* ReplicaServiceImpl::Write(grpc::CallbackServerContext* ctx,
                                   const v1::ReplicaWriteRequest* request,
                                   v1::ReplicaWriteResponse* response) {
  ReplicaNode* node = context_->node.load();
  if (node == nullptr) return FinishNow(ctx, NotReady());
  WorkerPool* pool = context_->replica_pool;
  return AfterLinkDelay(ctx, context_, request->from(), [=](Reactor* reactor) {
    Submit(pool, reactor, [=](Reactor* r) {
      absl::StatusOr<v1::ReplicaWriteResponse> result = node->HandleWrite(*request);
      if (result.ok()) *response = std::move(*result);
      r->Finish(ToGrpcStatus(result.status()));
    });
  });
}

Reactor* ReplicaServiceImpl::WriteBatch(grpc::CallbackServerContext* ctx,
                                        const v1::ReplicaWriteBatchRequest* request,
                                        v1::ReplicaWriteBatchResponse* response) {
  ReplicaNode* node = context_->node.load();
  if (node == nullptr) return FinishNow(ctx, NotReady());
  WorkerPool* pool = context_->replica_pool;
  return AfterLinkDelay(ctx, context_, request->from(), [=](Reactor* reactor) {
    Submit(pool, reactor, [=](Reactor* r) {
      *response = node->HandleWriteBatch(*request);
      r->Finish(grpc::Status::OK);
    });
  });
}

Reactor* ReplicaServiceImpl::CoordinatePut(grpc::CallbackServerContext* ctx,
                                           const v1::CoordinatePutRequest* request,
                                           v1::CoordinatePutResponse* response) {
  ReplicaNode* node = context_->node.load();
  if (node == nullptr) return FinishNow(ctx, NotReady());
  const absl::Time deadline = RequestDeadline(ctx, context_->clock);
  ServiceContext* context = context_;
  return AfterLinkDelay(ctx, context_, request->from(), [=](Reactor* reactor) {
    Admitted admitted = Admit(context, reactor);
    if (admitted == nullptr) return;
    // On the reactor's thread, as a client put.
    node->HandleCoordinatePut(*request, deadline,
                              [reactor, response, admitted](v1::CoordinatePutResponse c) {
                                *response = std::move(c);
                                reactor->Finish(grpc::Status::OK);
                              });
  });
}

Reactor* ReplicaServiceImpl::Ping(grpc::CallbackServerContext* ctx, const v1::PingRequest* request,
                                  v1::PingResponse* response) {
  ReplicaNode* node = context_->node.load();
  if (node == nullptr) return FinishNow(ctx, NotReady());
  return AfterLinkDelay(ctx, context_, request->from(), [=](Reactor* reactor) {
    *response = node->HandlePing(*request);
    reactor->Finish(grpc::Status::OK);
  });
}

Reactor* AdminServiceImpl::SetFaults(grpc::CallbackServerContext* ctx,
                                     const v1::SetFaultsRequest* request, v1::SetFaultsResponse*) {
  if (!context_->allow_fault_injection) {
    return FinishNow(ctx, absl::PermissionDeniedError(
                              "fault injection is not enabled on this node (start kvnode with "
                              "--allow-fault-injection)"));
  }
  std::map<std::string, absl::Duration> delays;
  for (const v1::LinkDelay& d : request->delays()) {
    if (d.delay_ms() > 0) delays[d.from()] = absl::Milliseconds(d.delay_ms());
  }
  context_->link_faults.Replace(std::move(delays));
  return FinishNow(ctx, absl::OkStatus());
}

}  // namespace quorumkv
