// How the replication core talks to other nodes. kvnode implements it with
// gRPC (server/grpc_transport.h); the simulator with a seeded in-memory
// network (tests/sim).
#ifndef QUORUMKV_REPLICATION_TRANSPORT_H_
#define QUORUMKV_REPLICATION_TRANSPORT_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/replica.pb.h"

namespace quorumkv {

namespace pb = ::quorumkv::v1;

// Every call is asynchronous and its callback runs exactly once, on any
// thread, possibly before the call returns, and no later than shortly after
// `deadline`. Callers must not hold locks that the callback takes.
//
// Errors mean: UNAVAILABLE marked NotSent (see below), the request never
// left this node (no connection, or this node is shutting down);
// DEADLINE_EXCEEDED, CANCELLED or any other UNAVAILABLE, the request may or
// may not have been applied (outcome unknown); anything else is the peer's
// own answer. Implementations are thread-safe.
// An UNAVAILABLE error for a request that provably never left this node:
// safe to retry elsewhere, and certainly not applied.
absl::Status NotSentError(absl::string_view message);
bool IsNotSent(const absl::Status& status);
// True when a failed call may nevertheless have been applied by the peer.
bool OutcomeUnknown(const absl::Status& status);

// A status carried inside a reply, in a message with `code` (an
// absl::StatusCode) and `message` fields: Outcome, ReplicaReadResult,
// ReplicaWriteResult.
template <typename Message>
void StatusToProto(const absl::Status& status, Message* out) {
  out->set_code(static_cast<int>(status.code()));
  out->set_message(std::string(status.message()));
}
template <typename Message>
absl::Status StatusFromProto(const Message& in) {
  return absl::Status(static_cast<absl::StatusCode>(in.code()), in.message());
}

// The calls a node makes to another. Thread-safe; the contract above holds
// for every method. An implementation may batch calls to the same peer
// (replication/call_batcher.h) as long as each call keeps its own deadline
// and answer. An implementation's destructor returns only once every
// callback it owes has run (kvnode's cancels the calls in flight first).
class Transport {
 public:
  template <typename T>
  using Callback = std::function<void(absl::StatusOr<T>)>;

  virtual ~Transport() = default;

  // Reads `to`'s replica of request.key() (or, for a fallback, its hints of
  // the key): ReplicaService.Read.
  virtual void Read(const std::string& to, const pb::ReplicaReadRequest& request,
                    absl::Time deadline, Callback<pb::ReplicaReadResponse> done) = 0;
  // Merges request.object() into `to`'s replica of the key, or into its hint
  // for request.hinted_for(): ReplicaService.Write. OK once durable there.
  virtual void Write(const std::string& to, const pb::ReplicaWriteRequest& request,
                     absl::Time deadline, Callback<pb::ReplicaWriteResponse> done) = 0;
  // Asks `to`, a home replica of the key, to coordinate a put this node
  // received but cannot coordinate: ReplicaService.CoordinatePut.
  virtual void CoordinatePut(const std::string& to, const pb::CoordinatePutRequest& request,
                             absl::Time deadline, Callback<pb::CoordinatePutResponse> done) = 0;
  // The failure detector's probe; the answer also carries what `to` knows of
  // its hints, repair marks and data (replica.proto, PingResponse).
  virtual void Ping(const std::string& to, const pb::PingRequest& request, absl::Time deadline,
                    Callback<pb::PingResponse> done) = 0;
  // Anti-entropy: `to`'s tree hashes or objects of one ring partition it is
  // a home replica of (replica.proto, ExchangeRequest).
  virtual void Exchange(const std::string& to, const pb::ExchangeRequest& request,
                        absl::Time deadline, Callback<pb::ExchangeResponse> done) = 0;
};

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_TRANSPORT_H_
