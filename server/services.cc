#include "server/services.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "proto/grpc_status_codec.h"
#include "server/grpc_transport.h"

namespace quorumkv {
namespace {

absl::Status NotReady() {
  return absl::UnavailableError("node is starting: storage is not open yet");
}

absl::Time RequestDeadline(const grpc::ServerContext* ctx, Clock* clock) {
  return std::min(FromGrpcDeadline(clock, ctx->deadline()), clock->Now() + kDefaultRequestTimeout);
}

// The node, once storage is open; until then null, and `call` is answered
// UNAVAILABLE.
template <typename Call>
ReplicaNode* ReadyNode(ServiceContext* context, Call* call) {
  ReplicaNode* node = context->node.load();
  if (node == nullptr) call->Finish(ToGrpcStatus(NotReady()));
  return node;
}

// Runs `start` after the delay injected on the link from `from` to this
// node, if any; answers `call` with the error if the delay queue is full.
// Counts and logs (once per episode) a request shed at `bound`, and
// answers `call` with `error`.
template <typename Call>
void Shed(ServiceContext* context, Call* call, ShedBound bound, const absl::Status& error) {
  if (context->metrics != nullptr) context->metrics->Shed(bound);
  if (context->clock != nullptr)
    context->shed_log.Shed(bound, context->clock->Now(), error.message());
  call->Finish(ToGrpcStatus(error));
}

template <typename Call>
void AfterLinkDelay(ServiceContext* context, Call* call, const std::string& from,
                    std::function<void()> start) {
  const absl::Duration delay = context->link_faults.DelayFrom(from);
  if (delay <= absl::ZeroDuration()) {
    start();
    return;
  }
  absl::Status queued = context->delays->RunAfter(delay, std::move(start));
  if (!queued.ok()) Shed(context, call, ShedBound::kLinkDelayQueue, queued);
}

// Runs `work` on `pool`, which answers `call`; sheds the call with
// RESOURCE_EXHAUSTED if the pool's queue is full.
template <typename Call>
void OnPool(ServiceContext* context, WorkerPool* pool, Call* call, std::function<void()> work) {
  absl::Status queued = pool->Submit(std::move(work));
  if (!queued.ok()) Shed(context, call, ShedBound::kWorkerQueue, queued);
}
template <typename Call>
void OnReplicaPool(ServiceContext* context, Call* call, std::function<void()> work) {
  OnPool(context, context->replica_pool, call, std::move(work));
}

// Answers `call` with `result`: its value, or its error.
template <typename Call, typename Response>
void FinishWith(Call* call, absl::StatusOr<Response> result) {
  if (result.ok()) *call->response() = std::move(*result);
  call->Finish(ToGrpcStatus(result.status()));
}

// One admitted request. It counts toward its limits (a count, and bytes)
// until its last copy, held by the reply callback, is destroyed.
class Admission {
 public:
  static std::shared_ptr<Admission> TryAdmit(std::atomic<int>* in_flight, int limit) {
    if (in_flight->fetch_add(1) >= limit) {
      in_flight->fetch_sub(1);
      return nullptr;
    }
    return std::shared_ptr<Admission>(new Admission(in_flight));
  }
  // Also holds `bytes` in `bytes_in_flight`, unless that would pass
  // `byte_limit` with other bytes already held (one request is always
  // admitted, whatever its size). False, holding nothing more, if not.
  bool HoldBytes(std::atomic<uint64_t>* bytes_in_flight, uint64_t bytes, uint64_t byte_limit) {
    const uint64_t before = bytes_in_flight->fetch_add(bytes);
    if (before > 0 && before + bytes > byte_limit) {
      bytes_in_flight->fetch_sub(bytes);
      return false;
    }
    bytes_in_flight_ = bytes_in_flight;
    bytes_ = bytes;
    return true;
  }
  ~Admission() {
    in_flight_->fetch_sub(1);
    if (bytes_in_flight_ != nullptr) bytes_in_flight_->fetch_sub(bytes_);
  }

 private:
  explicit Admission(std::atomic<int>* in_flight) : in_flight_(in_flight) {}
  std::atomic<int>* const in_flight_;
  std::atomic<uint64_t>* bytes_in_flight_ = nullptr;
  uint64_t bytes_ = 0;
};

using Admitted = std::shared_ptr<Admission>;

// Admits a request counted in `in_flight`, or sheds it with
// RESOURCE_EXHAUSTED when `limit` of its kind (`what`) are in flight (and
// returns null).
template <typename Call>
Admitted AdmitUpTo(ServiceContext* context, Call* call, std::atomic<int>* in_flight, int limit,
                   absl::string_view what, ShedBound bound) {
  Admitted admitted = Admission::TryAdmit(in_flight, limit);
  if (admitted == nullptr) {
    Shed(context, call, bound,
         absl::ResourceExhaustedError(absl::StrCat("overloaded: ", limit, " ", what,
                                                   " in flight (the limit); retry later")));
  }
  return admitted;
}

// A client request: bounded in count, and by its bytes (the request as
// received) against max_request_bytes_in_flight.
template <typename Call>
Admitted Admit(ServiceContext* context, Call* call) {
  Admitted admitted =
      AdmitUpTo(context, call, &context->client_requests, kMaxClientRequestsInFlight,
                "client requests", ShedBound::kClientRequests);
  if (admitted == nullptr) return nullptr;
  const uint64_t bytes = call->request().ByteSizeLong();
  if (!admitted->HoldBytes(&context->client_bytes, bytes, context->max_client_bytes)) {
    Shed(context, call, ShedBound::kClientBytes,
         absl::ResourceExhaustedError(absl::StrCat(
             "overloaded: ", context->client_bytes.load(), " bytes of client requests in flight, ",
             bytes, " more would pass max_request_bytes_in_flight=", context->max_client_bytes,
             "; retry later")));
    return nullptr;
  }
  return admitted;
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

void KvServiceImpl::ServeOn(grpc::ServerCompletionQueue* queue) {
  methods_.AuthorizeWith([context = context_](const grpc::ServerContext& call) {
    return context->callers.AllowClient(call);
  });
  NodeMetrics* metrics = context_->metrics;
  auto counted = [metrics](ClientOp op) {
    return [metrics, op](const grpc::Status& status, const auto&, absl::Duration latency) {
      if (metrics != nullptr) metrics->RequestDone(op, status.error_code(), latency);
    };
  };
  auto written = [metrics](ClientOp op) {
    return [metrics, op](const grpc::Status& status, const v1::PutResponse& response,
                         absl::Duration latency) {
      if (metrics == nullptr) return;
      metrics->RequestDone(op, status.error_code(), latency);
      if (status.ok()) metrics->WriteAnswered(response.quorum());
    };
  };
  methods_.Serve(queue, this, &v1::KvService::AsyncService::RequestGet, &KvServiceImpl::ServeGet,
                 [metrics](const grpc::Status& status, const v1::GetResponse& response,
                           absl::Duration latency) {
                   if (metrics == nullptr) return;
                   metrics->RequestDone(ClientOp::kGet, status.error_code(), latency);
                   if (status.ok())
                     metrics->ReadAnswered(response.quorum(), response.siblings_size());
                 });
  methods_.Serve(queue, this, &v1::KvService::AsyncService::RequestPut, &KvServiceImpl::ServePut,
                 written(ClientOp::kPut));
  methods_.Serve(queue, this, &v1::KvService::AsyncService::RequestDelete,
                 &KvServiceImpl::ServeDelete, written(ClientOp::kDelete));
  methods_.Serve(queue, this, &v1::KvService::AsyncService::RequestRing, &KvServiceImpl::ServeRing,
                 counted(ClientOp::kRing));
  methods_.Serve(queue, this, &v1::KvService::AsyncService::RequestStatus,
                 &KvServiceImpl::ServeStatus, counted(ClientOp::kStatus));
  methods_.Serve(queue, this, &v1::KvService::AsyncService::RequestRepair,
                 &KvServiceImpl::ServeRepair, counted(ClientOp::kRepair));
}

void KvServiceImpl::ServeGet(UnaryCall<v1::GetRequest, v1::GetResponse>* call) {
  ReplicaNode* node = ReadyNode(context_, call);
  if (node == nullptr) return;
  const absl::Time deadline = RequestDeadline(call->context(), context_->clock);
  Admitted admitted = Admit(context_, call);
  if (admitted == nullptr) return;
  // On the queue's thread: a get's local read is a memtable or block cache
  // lookup in the common case, and the hop to a pool thread cost more CPU
  // than the read itself (kvbench, docs/performance.md). Get reads the
  // request only before it starts the reads.
  node->Get(call->request(), deadline, [call, admitted](absl::Status status, v1::GetResponse got) {
    *call->response() = std::move(got);
    call->Finish(ToGrpcStatus(status, &call->response()->quorum()));
  });
}

void KvServiceImpl::ServePut(UnaryCall<v1::PutRequest, v1::PutResponse>* call) {
  CoordinatePut(call, call->request());
}

void KvServiceImpl::ServeDelete(UnaryCall<v1::DeleteRequest, v1::PutResponse>* call) {
  const v1::DeleteRequest& request = call->request();
  v1::PutRequest put;
  put.set_key(request.key());
  put.set_context(request.context());
  put.set_w(request.w());
  put.set_strict(request.strict());
  put.set_tombstone(true);
  put.set_idempotency_key(request.idempotency_key());
  CoordinatePut(call, put);
}

template <typename Call>
void KvServiceImpl::CoordinatePut(Call* call, const v1::PutRequest& request) {
  ReplicaNode* node = ReadyNode(context_, call);
  if (node == nullptr) return;
  const absl::Time deadline = RequestDeadline(call->context(), context_->clock);
  Admitted admitted = Admit(context_, call);
  if (admitted == nullptr) return;
  // On the queue's thread: the local write waits in a write group, which
  // blocks on the writer thread (NodeServer), not here. The response
  // travels in the body when OK, its quorum metadata in the error details
  // otherwise.
  node->Put(request, deadline, [call, admitted](absl::Status status, v1::PutResponse result) {
    *call->response() = std::move(result);
    call->Finish(ToGrpcStatus(status, &call->response()->quorum()));
  });
}

void KvServiceImpl::ServeRing(UnaryCall<v1::RingRequest, v1::RingResponse>* call) {
  ReplicaNode* node = ReadyNode(context_, call);
  if (node == nullptr) return;
  *call->response() = node->RingInfo();
  call->Finish(grpc::Status::OK);
}

void KvServiceImpl::ServeRepair(UnaryCall<v1::RepairRequest, v1::RepairResponse>* call) {
  ReplicaNode* node = ReadyNode(context_, call);
  if (node == nullptr) return;
  FinishWith(call, node->Repair(call->request()));
}

void KvServiceImpl::ServeStatus(UnaryCall<v1::StatusRequest, v1::StatusResponse>* call) {
  ReplicaNode* node = ReadyNode(context_, call);
  if (node == nullptr) return;
  node->Status([call](v1::StatusResponse status) {
    *call->response() = std::move(status);
    call->Finish(grpc::Status::OK);
  });
}

void ReplicaServiceImpl::ServeOn(grpc::ServerCompletionQueue* queue) {
  methods_.AuthorizeWith([context = context_](const grpc::ServerContext& call) {
    return context->callers.AllowNode(call);
  });
  methods_.Serve(queue, this, &v1::ReplicaService::AsyncService::RequestRead,
                 &ReplicaServiceImpl::ServeRead);
  methods_.Serve(queue, this, &v1::ReplicaService::AsyncService::RequestReadBatch,
                 &ReplicaServiceImpl::ServeReadBatch);
  methods_.Serve(queue, this, &v1::ReplicaService::AsyncService::RequestWrite,
                 &ReplicaServiceImpl::ServeWrite);
  methods_.Serve(queue, this, &v1::ReplicaService::AsyncService::RequestWriteBatch,
                 &ReplicaServiceImpl::ServeWriteBatch);
  methods_.Serve(queue, this, &v1::ReplicaService::AsyncService::RequestCoordinatePut,
                 &ReplicaServiceImpl::ServeCoordinatePut);
  methods_.Serve(queue, this, &v1::ReplicaService::AsyncService::RequestPing,
                 &ReplicaServiceImpl::ServePing);
  methods_.Serve(queue, this, &v1::ReplicaService::AsyncService::RequestExchange,
                 &ReplicaServiceImpl::ServeExchange);
}

void ReplicaServiceImpl::ServeRead(
    UnaryCall<v1::ReplicaReadRequest, v1::ReplicaReadResponse>* call) {
  ReplicaNode* node = ReadyNode(context_, call);
  if (node == nullptr) return;
  // On the queue's thread, as a client get (see KvServiceImpl::ServeGet).
  AfterLinkDelay(context_, call, call->request().from(),
                 [node, call] { FinishWith(call, node->HandleRead(call->request())); });
}

void ReplicaServiceImpl::ServeReadBatch(
    UnaryCall<v1::ReplicaReadBatchRequest, v1::ReplicaReadBatchResponse>* call) {
  ReplicaNode* node = ReadyNode(context_, call);
  if (node == nullptr) return;
  AfterLinkDelay(context_, call, call->request().from(), [node, call] {
    *call->response() = node->HandleReadBatch(call->request());
    call->Finish(grpc::Status::OK);
  });
}

void ReplicaServiceImpl::ServeWrite(
    UnaryCall<v1::ReplicaWriteRequest, v1::ReplicaWriteResponse>* call) {
  ReplicaNode* node = ReadyNode(context_, call);
  if (node == nullptr) return;
  ServiceContext* context = context_;
  AfterLinkDelay(context_, call, call->request().from(), [context, node, call] {
    OnReplicaPool(context, call,
                  [node, call] { FinishWith(call, node->HandleWrite(call->request())); });
  });
}

void ReplicaServiceImpl::ServeWriteBatch(
    UnaryCall<v1::ReplicaWriteBatchRequest, v1::ReplicaWriteBatchResponse>* call) {
  ReplicaNode* node = ReadyNode(context_, call);
  if (node == nullptr) return;
  ServiceContext* context = context_;
  AfterLinkDelay(context_, call, call->request().from(), [context, node, call] {
    if (ReplicaNode::CarriesHints(call->request())) {
      // A hint's write blocks on its own synced write: on the pool.
      return OnReplicaPool(context, call, [node, call] {
        *call->response() = node->HandleWriteBatch(call->request());
        call->Finish(grpc::Status::OK);
      });
    }
    Admitted admitted =
        AdmitUpTo(context, call, &context->replica_batches, kMaxReplicaBatchesInFlight,
                  "replica write batches", ShedBound::kReplicaBatches);
    if (admitted == nullptr) return;
    // Into the write groups, with this node's own puts; answered from the
    // writer's thread.
    node->MergeWriteBatch(call->request(),
                          [call, admitted](v1::ReplicaWriteBatchResponse response) {
                            *call->response() = std::move(response);
                            call->Finish(grpc::Status::OK);
                          });
  });
}

void ReplicaServiceImpl::ServeCoordinatePut(
    UnaryCall<v1::CoordinatePutRequest, v1::CoordinatePutResponse>* call) {
  ReplicaNode* node = ReadyNode(context_, call);
  if (node == nullptr) return;
  const absl::Time deadline = RequestDeadline(call->context(), context_->clock);
  ServiceContext* context = context_;
  AfterLinkDelay(context_, call, call->request().from(), [context, node, call, deadline] {
    Admitted admitted = Admit(context, call);
    if (admitted == nullptr) return;
    // On the queue's thread, as a client put.
    node->HandleCoordinatePut(call->request(), deadline,
                              [call, admitted](v1::CoordinatePutResponse response) {
                                *call->response() = std::move(response);
                                call->Finish(grpc::Status::OK);
                              });
  });
}

void ReplicaServiceImpl::ServePing(UnaryCall<v1::PingRequest, v1::PingResponse>* call) {
  if (grpc::Status claimed =
          context_->callers.AllowClaimedNode(*call->context(), call->request().from());
      !claimed.ok()) {
    call->Finish(claimed);
    return;
  }
  ReplicaNode* node = ReadyNode(context_, call);
  if (node == nullptr) return;
  AfterLinkDelay(context_, call, call->request().from(), [node, call] {
    *call->response() = node->HandlePing(call->request());
    call->Finish(grpc::Status::OK);
  });
}

void ReplicaServiceImpl::ServeExchange(UnaryCall<v1::ExchangeRequest, v1::ExchangeResponse>* call) {
  ReplicaNode* node = ReadyNode(context_, call);
  if (node == nullptr) return;
  ServiceContext* context = context_;
  AfterLinkDelay(context_, call, call->request().from(), [context, node, call] {
    // On the repair pool: a listing reads whole segments, which client
    // requests must not wait behind (the bulkhead of anti-entropy).
    OnPool(context, context->repair_pool, call,
           [node, call] { FinishWith(call, node->HandleExchange(call->request())); });
  });
}

void AdminServiceImpl::ServeOn(grpc::ServerCompletionQueue* queue) {
  methods_.AuthorizeWith([context = context_](const grpc::ServerContext& call) {
    if (!context->allow_fault_injection) {
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                          "fault injection is not enabled on this node (start kvnode with "
                          "--allow-fault-injection)");
    }
    return context->callers.AllowFaultInjector(call);
  });
  methods_.Serve(queue, this, &v1::AdminService::AsyncService::RequestSetFaults,
                 &AdminServiceImpl::ServeSetFaults);
}

void AdminServiceImpl::ServeSetFaults(
    UnaryCall<v1::SetFaultsRequest, v1::SetFaultsResponse>* call) {
  std::map<std::string, absl::Duration> delays;
  for (const v1::LinkDelay& d : call->request().delays()) {
    if (d.delay_ms() > 0) delays[d.from()] = absl::Milliseconds(d.delay_ms());
  }
  context_->link_faults.Replace(std::move(delays));
  if (context_->disk != nullptr) {
    context_->disk->SetWriteError(
        call->request().disk_full()
            ? absl::ResourceExhaustedError("disk full (injected: kvharness disk-full)")
            : absl::OkStatus());
  }
  if (context_->system_clock != nullptr) {
    context_->system_clock->SetInjectedSkew(absl::Milliseconds(call->request().clock_skew_ms()));
  }
  call->Finish(grpc::Status::OK);
}

}  // namespace quorumkv
