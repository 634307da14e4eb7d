#include "server/grpc_transport.h"

#include <algorithm>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "proto/grpc_status_codec.h"
#include "replication/cluster_config.h"
#include "replication/replica_node.h"
#include "security/tls_credentials.h"

namespace quorumkv {
namespace {

// True when a call failed before any connection to the peer existed: the
// request was not sent.
bool NeverConnected(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAVAILABLE &&
         status.error_message().find("failed to connect") != std::string::npos;
}

// What a failed call means for the caller (see transport.h). gRPC's
// connection errors run to several lines of resolver detail; a quorum error
// lists one per replica, so they are kept short.
absl::Status FromTransportStatus(const grpc::Status& status) {
  if (status.error_code() != grpc::StatusCode::UNAVAILABLE) return FromGrpcStatus(status);
  const std::string& message = status.error_message();
  if (message.find("Connection refused") != std::string::npos) {
    return NotSentError("unreachable (connection refused)");
  }
  if (NeverConnected(status)) return NotSentError("unreachable");
  // The peer answered before its storage was open: nothing was applied.
  if (message.find("node is starting") != std::string::npos) return NotSentError(message);
  return FromGrpcStatus(status);
}

// The callback of the retry of a replica write whose first attempt failed
// with `first`. If that attempt may have reached the peer (its connection
// dropped with the call in flight), the retry's "not sent" (the peer now
// refuses connections) must not hide it: the outcome is unknown, not
// unsent. Other calls keep the retry's answer: a ping refused on the retry
// tells the failure detector the peer is gone.
template <typename Request, typename Response>
Transport::Callback<Response> KeepUnknownOutcome(const absl::Status& first,
                                                 Transport::Callback<Response> done) {
  constexpr bool kWrite = std::is_same_v<Request, v1::ReplicaWriteBatchRequest> ||
                          std::is_same_v<Request, v1::ReplicaWriteRequest>;
  if (!kWrite || IsNotSent(first)) return done;
  return [first_message = std::string(first.message()),
          done = std::move(done)](absl::StatusOr<Response> result) {
    if (!result.ok() && IsNotSent(result.status())) {
      result = absl::UnavailableError(
          absl::StrCat(first_message, ", then ", result.status().message(), " on the retry"));
    }
    done(std::move(result));
  };
}

}  // namespace

// One call in flight: what it was asked, and what to do when it ends. Its
// tag runs on the completion queue once gRPC has the answer.
template <typename Request, typename Response>
class GrpcTransport::PendingCall final : public CqTag {
 public:
  PendingCall(GrpcTransport* transport, Peer* peer, std::string to, const Request& request,
              absl::Time deadline, Callback<Response> done, Prepare<Request, Response> prepare,
              Attempt attempt)
      : transport(transport),
        peer(peer),
        to(std::move(to)),
        request(request),
        deadline(deadline),
        done(std::move(done)),
        prepare(prepare),
        attempt(attempt) {}

  void Run(bool) override { transport->Finished(this); }
  // Called by the thread that started the call, and after Finished.
  void LetGo() {
    if (holders.LetGo()) delete this;
  }

  GrpcTransport* const transport;
  Peer* const peer;
  const std::string to;
  const Request request;
  const absl::Time deadline;  // of the request, over every attempt
  Callback<Response> done;
  const Prepare<Request, Response> prepare;
  const Attempt attempt;
  absl::Time attempt_deadline;
  // Sent only once connected (wait_for_ready): on this channel.
  grpc::Channel* waits_for = nullptr;
  uint64_t bytes = 0;
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientAsyncResponseReader<Response>> reader;
  Response response;
  grpc::Status status;
  TwoHolders holders;  // the thread that started it, and the queue's
};

grpc::ChannelArguments QuorumkvChannelArguments(uint64_t max_message_bytes) {
  grpc::ChannelArguments args = ReconnectingChannelArguments();
  // The transport retries by itself (attempt deadlines, fallbacks, only
  // what may be sent twice). gRPC's retry layer, with no retry policy,
  // would only replay a call that never left this node, and buffers every
  // call's messages for it.
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  args.SetMaxReceiveMessageSize(static_cast<int>(std::min<uint64_t>(max_message_bytes, INT32_MAX)));
  args.SetMaxSendMessageSize(static_cast<int>(std::min<uint64_t>(max_message_bytes, INT32_MAX)));
  return args;
}

uint64_t MaxMessageBytes(const v1::ClusterConfig& config) {
  return (kMergedObjectFactor + 1) * config.max_object_bytes() + (1 << 20);
}

std::chrono::system_clock::time_point ToGrpcDeadline(Clock* clock, absl::Time deadline) {
  return absl::ToChronoTime(absl::Now() + (deadline - clock->Now()));
}

absl::Time FromGrpcDeadline(Clock* clock, std::chrono::system_clock::time_point deadline) {
  if (deadline == std::chrono::system_clock::time_point::max()) return absl::InfiniteFuture();
  return clock->Now() + (absl::FromChrono(deadline) - absl::Now());
}

GrpcTransport::GrpcTransport(std::string self, v1::ClusterConfig config, Clock* clock,
                             std::vector<grpc::CompletionQueue*> queues,
                             std::shared_ptr<grpc::ChannelCredentials> credentials)
    : self_(std::move(self)),
      config_(std::move(config)),
      clock_(clock),
      credentials_(std::move(credentials)),
      queues_(std::move(queues)),
      read_batcher_(self_, clock_,
                    [this](const std::string& to, pb::ReplicaReadBatchRequest request,
                           absl::Time deadline, Callback<pb::ReplicaReadBatchResponse> done) {
                      Call(to, request, deadline, std::move(done),
                           &v1::ReplicaService::Stub::PrepareAsyncReadBatch);
                    }),
      // A write merges into what the replica holds, so a batch sent twice
      // changes nothing the first did not: it may be retried.
      write_batcher_(self_, clock_,
                     [this](const std::string& to, pb::ReplicaWriteBatchRequest request,
                            absl::Time deadline, Callback<pb::ReplicaWriteBatchResponse> done) {
                       Call(to, request, deadline, std::move(done),
                            &v1::ReplicaService::Stub::PrepareAsyncWriteBatch);
                     }) {}

GrpcTransport::~GrpcTransport() {
  absl::MutexLock lock(&mu_);
  shutting_down_ = true;
  for (grpc::ClientContext* context : in_flight_) context->TryCancel();
  auto drained = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return in_flight_.empty() && callbacks_running_ == 0;
  };
  mu_.Await(absl::Condition(&drained));
}

GrpcTransport::Peer* GrpcTransport::PeerFor(const std::string& to) {
  absl::MutexLock lock(&mu_);
  auto it = peers_.find(to);
  if (it != peers_.end()) return &it->second;
  if (FindNode(config_, to) == nullptr) return nullptr;
  Peer peer;
  // A subchannel pool of each channel's own: a connection each.
  grpc::ChannelArguments args = QuorumkvChannelArguments(MaxMessageBytes(config_));
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  peer.channel = grpc::CreateCustomChannel(PeerAddress(config_, self_, to), credentials_, args);
  peer.stub = v1::ReplicaService::NewStub(peer.channel);
  peer.forward_channel =
      grpc::CreateCustomChannel(PeerAddress(config_, self_, to), credentials_, args);
  peer.forward_stub = v1::ReplicaService::NewStub(peer.forward_channel);
  return &peers_.emplace(to, std::move(peer)).first->second;
}

absl::Status GrpcTransport::CallStarted(grpc::ClientContext* context, uint64_t bytes) {
  absl::MutexLock lock(&mu_);
  if (shutting_down_) return NotSentError("node is shutting down");
  if (in_flight_bytes_ + bytes > kMaxInFlightBytes && !in_flight_.empty()) {
    return absl::ResourceExhaustedError(
        absl::StrCat("outgoing replica traffic is full: ", in_flight_bytes_,
                     " bytes in flight (limit ", kMaxInFlightBytes, ")"));
  }
  in_flight_.insert(context);
  in_flight_bytes_ += bytes;
  return absl::OkStatus();
}

void GrpcTransport::BeginCallback(grpc::ClientContext* context) {
  absl::MutexLock lock(&mu_);
  in_flight_.erase(context);
  ++callbacks_running_;
}

void GrpcTransport::EndCallback(uint64_t bytes) {
  absl::MutexLock lock(&mu_);
  --callbacks_running_;
  in_flight_bytes_ -= bytes;
}

template <typename Request, typename Response>
void GrpcTransport::Call(const std::string& to, const Request& request, absl::Time deadline,
                         Callback<Response> done, Prepare<Request, Response> prepare,
                         Attempt attempt) {
  Peer* peer = PeerFor(to);
  if (peer == nullptr) {
    done(absl::InvalidArgumentError(absl::StrCat("unknown node ", to)));
    return;
  }
  auto* call = new PendingCall<Request, Response>(this, peer, to, request, deadline,
                                                  std::move(done), prepare, attempt);
  call->bytes = request.ByteSizeLong();
  // Attempt::kOnly: a forwarded put (CoordinatePut), on its own connection.
  grpc::Channel* channel =
      attempt == Attempt::kOnly ? peer->forward_channel.get() : peer->channel.get();
  // A reconnect attempt waits (briefly) for the connection instead of
  // failing on the channel's stale state. A call on a connection still
  // being made waits for it, up to kConnectWait: a call that merely sat on
  // it until the deadline would look as if it may have been applied.
  const grpc_connectivity_state state = channel->GetState(/*try_to_connect=*/true);
  const bool connecting = state == GRPC_CHANNEL_IDLE || state == GRPC_CHANNEL_CONNECTING;
  call->attempt_deadline = deadline;
  if (attempt == Attempt::kReconnect || connecting) {
    call->waits_for = channel;
    call->attempt_deadline = std::min(
        deadline, clock_->Now() + (attempt == Attempt::kReconnect ? kReconnectWait : kConnectWait));
  }
  call->context.set_deadline(ToGrpcDeadline(clock_, call->attempt_deadline));
  call->context.set_wait_for_ready(call->waits_for != nullptr);
  if (absl::Status started = CallStarted(&call->context, call->bytes); !started.ok()) {
    Callback<Response> refused = std::move(call->done);
    delete call;
    refused(started);
    return;
  }
  grpc::CompletionQueue* queue = queues_[next_queue_.fetch_add(1) % queues_.size()];
  v1::ReplicaService::Stub* stub =
      attempt == Attempt::kOnly ? peer->forward_stub.get() : peer->stub.get();
  call->reader = (stub->*prepare)(&call->context, call->request, queue);
  call->reader->StartCall();
  call->reader->Finish(&call->response, &call->status, QueueTag(call));
  call->LetGo();
}

template <typename Request, typename Response>
void GrpcTransport::Finished(PendingCall<Request, Response>* call) {
  // Counted until the very end, so the destructor cannot return while this
  // (or the retry it starts) still runs.
  BeginCallback(&call->context);
  const uint64_t bytes = call->bytes;
  const grpc::Status& status = call->status;
  // A channel still backing off from an earlier failure fails calls without
  // trying to connect, so a node that came back would look dead until the
  // backoff ends; a connection the peer dropped (it restarted, or just
  // died) fails the call in flight. Either way an idempotent call tries
  // once more, on a fresh connection, which also tells a dead peer
  // (refused) from a restarted one.
  if (call->attempt == Attempt::kFirstRetryable &&
      status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    grpc::experimental::ChannelResetConnectionBackoff(call->peer->channel.get());
    Call(call->to, call->request, call->deadline,
         KeepUnknownOutcome<Request, Response>(FromTransportStatus(status), std::move(call->done)),
         call->prepare, Attempt::kReconnect);
  } else {
    absl::StatusOr<Response> result;
    if (status.ok()) {
      result = std::move(call->response);
    } else if (call->waits_for != nullptr &&
               status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED &&
               call->waits_for->GetState(false) != GRPC_CHANNEL_READY) {
      // The wait for a connection ran out with none made: never sent.
      result = NotSentError("unreachable (no connection)");
    } else {
      result = FromTransportStatus(status);
    }
    Callback<Response> finished = std::move(call->done);
    finished(std::move(result));
  }
  call->LetGo();
  EndCallback(bytes);
}

void GrpcTransport::Read(const std::string& to, const pb::ReplicaReadRequest& request,
                         absl::Time deadline, Callback<pb::ReplicaReadResponse> done) {
  read_batcher_.Call(to, request, deadline, std::move(done));
}

void GrpcTransport::Write(const std::string& to, const pb::ReplicaWriteRequest& request,
                          absl::Time deadline, Callback<pb::ReplicaWriteResponse> done) {
  write_batcher_.Call(to, request, deadline, std::move(done));
}

void GrpcTransport::CoordinatePut(const std::string& to, const pb::CoordinatePutRequest& request,
                                  absl::Time deadline, Callback<pb::CoordinatePutResponse> done) {
  // Not retried here: the forwarding node tries the next home replica.
  Call(to, request, deadline, std::move(done), &v1::ReplicaService::Stub::PrepareAsyncCoordinatePut,
       Attempt::kOnly);
}

void GrpcTransport::Ping(const std::string& to, const pb::PingRequest& request, absl::Time deadline,
                         Callback<pb::PingResponse> done) {
  Call(to, request, deadline, std::move(done), &v1::ReplicaService::Stub::PrepareAsyncPing);
}

void GrpcTransport::Exchange(const std::string& to, const pb::ExchangeRequest& request,
                             absl::Time deadline, Callback<pb::ExchangeResponse> done) {
  Call(to, request, deadline, std::move(done), &v1::ReplicaService::Stub::PrepareAsyncExchange);
}

}  // namespace quorumkv
