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
// Errors mean: UNAVAILABLE, the peer could not be reached (the request may or
// may not have arrived if the connection broke mid-call); DEADLINE_EXCEEDED,
// no answer by the deadline (outcome unknown); anything else is the peer's
// own answer. Implementations are thread-safe.
class Transport {
 public:
  template <typename T>
  using Callback = std::function<void(absl::StatusOr<T>)>;

  virtual ~Transport() = default;

  virtual void Read(const std::string& to, const pb::ReplicaReadRequest& request,
                    absl::Time deadline, Callback<pb::ReplicaReadResponse> done) = 0;
  virtual void Write(const std::string& to, const pb::ReplicaWriteRequest& request,
                     absl::Time deadline, Callback<pb::ReplicaWriteResponse> done) = 0;
  virtual void CoordinatePut(const std::string& to, const pb::CoordinatePutRequest& request,
                             absl::Time deadline, Callback<pb::CoordinatePutResponse> done) = 0;
  virtual void Ping(const std::string& to, const pb::PingRequest& request, absl::Time deadline,
                    Callback<pb::PingResponse> done) = 0;
};

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_TRANSPORT_H_
