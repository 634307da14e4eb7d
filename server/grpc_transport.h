// The Transport of kvnode: the replica protocol over gRPC, its calls sent on
// the node's completion queues (completion_queue.h).
#ifndef QUORUMKV_SERVER_GRPC_TRANSPORT_H_
#define QUORUMKV_SERVER_GRPC_TRANSPORT_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "proto/config.pb.h"
#include "proto/replica.grpc.pb.h"
#include "replication/call_batcher.h"
#include "replication/clock.h"
#include "replication/transport.h"
#include "server/completion_queue.h"

namespace quorumkv {

// gRPC channel arguments shared by every quorumkv channel: quick reconnects
// (a restarted node is reachable within about a second) and message sizes
// that fit the largest object the config allows.
grpc::ChannelArguments QuorumkvChannelArguments(uint64_t max_message_bytes);
// The largest message a node sends or accepts: a merged object may hold up
// to kMergedObjectFactor x max_object_bytes of values, plus overhead.
uint64_t MaxMessageBytes(const v1::ClusterConfig& config);

// Thread-safe. Channels are created on first use and kept. Reads and
// writes to one peer are batched (call_batcher.h).
class GrpcTransport : public Transport {
 public:
  // Bytes of requests in flight to all peers together; past it, calls fail
  // at once with RESOURCE_EXHAUSTED instead of queueing without bound.
  static constexpr uint64_t kMaxInFlightBytes = 512ull << 20;

  // `clock` (not owned) is the node's clock: deadlines are given on it and
  // turned into real time for gRPC, so an injected clock skew does not
  // shorten or stretch calls. Calls are sent on `queues` in turn (not
  // owned; each must run until the transport is destroyed), and their
  // callbacks run on the queue's thread. Channels to peers use
  // `credentials` (the node's certificate under TLS).
  GrpcTransport(std::string self, v1::ClusterConfig config, Clock* clock,
                std::vector<grpc::CompletionQueue*> queues,
                std::shared_ptr<grpc::ChannelCredentials> credentials);
  // Cancels the calls in flight and waits until every callback has returned.
  ~GrpcTransport() override;

  void Read(const std::string& to, const pb::ReplicaReadRequest& request, absl::Time deadline,
            Callback<pb::ReplicaReadResponse> done) override;
  void Write(const std::string& to, const pb::ReplicaWriteRequest& request, absl::Time deadline,
             Callback<pb::ReplicaWriteResponse> done) override;
  void CoordinatePut(const std::string& to, const pb::CoordinatePutRequest& request,
                     absl::Time deadline, Callback<pb::CoordinatePutResponse> done) override;
  void Ping(const std::string& to, const pb::PingRequest& request, absl::Time deadline,
            Callback<pb::PingResponse> done) override;
  void Exchange(const std::string& to, const pb::ExchangeRequest& request, absl::Time deadline,
                Callback<pb::ExchangeResponse> done) override;

 private:
  // Two connections to each peer: forwarded puts (one call each, up to
  // thousands at once) on their own, so that they never hold back pings and
  // replica batches behind the peer's limit of calls per connection
  // (NodeServer::kMaxStreamsPerConnection).
  struct Peer {
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<v1::ReplicaService::Stub> stub;
    std::shared_ptr<grpc::Channel> forward_channel;
    std::unique_ptr<v1::ReplicaService::Stub> forward_stub;
  };
  enum class Attempt {
    kFirstRetryable,  // idempotent: retried once after UNAVAILABLE
    kReconnect,       // that retry: waits up to kReconnectWait for a connection
    kOnly,            // never retried: a forwarded put, sent on Peer::forward_stub
  };
  static constexpr absl::Duration kReconnectWait = absl::Milliseconds(250);
  // The longest a call waits for a connection still being made (a TLS
  // handshake; a peer behind a partition that never answers one) before
  // it ends unsent, so that the caller can try elsewhere in time.
  static constexpr absl::Duration kConnectWait = absl::Seconds(1);

  // A generated Stub::PrepareAsyncFoo.
  template <typename Request, typename Response>
  using Prepare = std::unique_ptr<grpc::ClientAsyncResponseReader<Response>> (
      v1::ReplicaService::Stub::*)(grpc::ClientContext*, const Request&, grpc::CompletionQueue*);
  template <typename Request, typename Response>
  class PendingCall;

  template <typename Request, typename Response>
  void Call(const std::string& to, const Request& request, absl::Time deadline,
            Callback<Response> done, Prepare<Request, Response> prepare,
            Attempt attempt = Attempt::kFirstRetryable);
  // The end of a call started by Call: retries it, or runs its callback.
  template <typename Request, typename Response>
  void Finished(PendingCall<Request, Response>* call);
  // The peer's channel and stub, created on first use; nullptr for an
  // unknown node. Peers are never removed, so the pointer stays valid.
  Peer* PeerFor(const std::string& to);
  // Registers a call about to start. Fails (NotSent) when shutting down,
  // RESOURCE_EXHAUSTED past kMaxInFlightBytes.
  absl::Status CallStarted(grpc::ClientContext* context, uint64_t bytes);
  // The first thing a call's callback does: its context can no longer be
  // cancelled, and the destructor waits for EndCallback.
  void BeginCallback(grpc::ClientContext* context);
  // The last thing a call's callback does: the destructor may return after.
  void EndCallback(uint64_t bytes);

  const std::string self_;
  const v1::ClusterConfig config_;
  Clock* const clock_;
  const std::shared_ptr<grpc::ChannelCredentials> credentials_;
  const std::vector<grpc::CompletionQueue*> queues_;
  std::atomic<size_t> next_queue_{0};
  absl::Mutex mu_;
  std::map<std::string, Peer> peers_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<grpc::ClientContext*> in_flight_ ABSL_GUARDED_BY(mu_);
  uint64_t in_flight_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  int callbacks_running_ ABSL_GUARDED_BY(mu_) = 0;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  // Reads and writes go through them (ReadBatch and WriteBatch calls);
  // declared last, so they are destroyed first, after the destructor
  // drained every call.
  ReadBatcher read_batcher_;
  WriteBatcher write_batcher_;
};

// A deadline on `clock` as a real-time point for gRPC, and back.
std::chrono::system_clock::time_point ToGrpcDeadline(Clock* clock, absl::Time deadline);
absl::Time FromGrpcDeadline(Clock* clock, std::chrono::system_clock::time_point deadline);

}  // namespace quorumkv

#endif  // QUORUMKV_SERVER_GRPC_TRANSPORT_H_
