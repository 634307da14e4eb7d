// What the parts of KvClient share (kv_client.cc, kv_client_routing.cc,
// kv_client_hedging.cc): a node as the client sees it, and how a call's
// gRPC status reads. Not part of the client's API.
#ifndef QUORUMKV_CLIENT_KV_CLIENT_INTERNAL_H_
#define QUORUMKV_CLIENT_KV_CLIENT_INTERNAL_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "client/circuit_breaker.h"
#include "client/kv_client.h"
#include "proto/kv.grpc.pb.h"

namespace quorumkv {

// One endpoint: its channel and stub (thread-safe), and its breaker.
struct KvClient::Node {
  std::string endpoint;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::KvService::Stub> stub;
  CircuitBreaker breaker;
};

// `status` as an absl::Status, with the coordinator's QuorumInfo as its
// payload when it carried one (QuorumInfoOf).
absl::Status WithQuorum(const grpc::Status& status);
// A failure of the node or the connection, not a coordinator's outcome
// (those carry QuorumInfo).
bool IsUnreachable(const grpc::Status& status);
// Shed at admission (services.cc): the node did nothing with the request.
bool ShedAtAdmission(const grpc::Status& status);
// The request provably did not reach a coordinator: no connection, the
// node was not ready to take it, or it shed it unopened.
bool NeverReachedCoordinator(const grpc::Status& status);
// The node itself failed (a breaker's failure), as opposed to answering,
// even with an error. Out of time is the request's, not the node's, once
// its `deadline` is near: a short deadline must not open breakers on
// healthy nodes.
bool NodeFailed(const grpc::Status& status, absl::Time deadline);

// A put or delete tried on node after node: whether an attempt may have
// been applied (its connection dropped with the call in flight), and so
// what the call's failure is. Not thread-safe (one call's).
class MaybeApplied {
 public:
  // An attempt on `endpoint` failed with `status`.
  void OnFailure(const std::string& endpoint, const grpc::Status& status);
  // `failure` unchanged if no attempt may have been applied, or if it is a
  // rejection that no attempt could have got past (INVALID_ARGUMENT,
  // FAILED_PRECONDITION); else DEADLINE_EXCEEDED "outcome unknown: ..."
  // naming the attempt, with `failure`'s message and payloads.
  absl::Status Outcome(absl::Status failure) const;

 private:
  std::string endpoint_;  // the first attempt that may have been applied
};

}  // namespace quorumkv

#endif  // QUORUMKV_CLIENT_KV_CLIENT_INTERNAL_H_
