// Who may call which of kvnode's services (SPEC §9), from the certificate
// each caller presented in the mutual TLS handshake (security/):
//   - KvService (the client API): client certificates ("client:<name>");
//   - ReplicaService: the nodes of the cluster config ("node:<id>");
//   - AdminService (fault injection): only the identities given as fault
//     injectors, and only on a node started with --allow-fault-injection
//     (checked by the service).
// The health service and reflection answer any certificate of the CA.
// Without TLS (kvnode --insecure, or on loopback) there are no identities
// and every caller is allowed.
//
// Immutable after construction; thread-safe.
#ifndef QUORUMKV_SERVER_CALLER_POLICY_H_
#define QUORUMKV_SERVER_CALLER_POLICY_H_

#include <grpcpp/grpcpp.h>

#include <set>
#include <string>
#include <vector>

#include "proto/config.pb.h"

namespace quorumkv {

class CallerPolicy {
 public:
  // No TLS: everyone is allowed.
  CallerPolicy() = default;
  // TLS: the nodes of `config`, clients, and `fault_injectors` (identities).
  CallerPolicy(const v1::ClusterConfig& config, std::vector<std::string> fault_injectors);

  // OK, or PERMISSION_DENIED naming the caller's identity and who may call
  // (UNAUTHENTICATED if a TLS node was reached without a certificate).
  grpc::Status AllowClient(const grpc::ServerContext& context) const;
  grpc::Status AllowNode(const grpc::ServerContext& context) const;
  grpc::Status AllowFaultInjector(const grpc::ServerContext& context) const;
  // OK if a replica call that says it comes from node `from` does: its
  // certificate is "node:<from>" (a ping carries what its node says of its
  // own dots: replication/issued_dots.h). PERMISSION_DENIED otherwise.
  grpc::Status AllowClaimedNode(const grpc::ServerContext& context, const std::string& from) const;

 private:
  bool tls_ = false;
  std::set<std::string> nodes_;  // "node:<id>" of each node of the config
  std::set<std::string> fault_injectors_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_SERVER_CALLER_POLICY_H_
