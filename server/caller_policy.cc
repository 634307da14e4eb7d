#include "server/caller_policy.h"

#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "security/tls_credentials.h"
#include "security/tls_files.h"

namespace quorumkv {
namespace {

// The caller's identity, or the status that refuses it.
std::optional<std::string> IdentityOf(const grpc::ServerContext& context, grpc::Status* refused) {
  std::optional<std::string> identity = CallerIdentity(context);
  if (!identity.has_value()) {
    *refused = grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                            "this node requires TLS with a certificate of the cluster's CA");
  }
  return identity;
}

grpc::Status Denied(const std::string& identity, absl::string_view service,
                    absl::string_view allowed) {
  return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                      absl::StrCat(service, " refuses the certificate of \"", identity,
                                   "\": it answers only ", allowed));
}

}  // namespace

CallerPolicy::CallerPolicy(const v1::ClusterConfig& config,
                           std::vector<std::string> fault_injectors)
    : tls_(true), fault_injectors_(fault_injectors.begin(), fault_injectors.end()) {
  for (const v1::NodeConfig& node : config.nodes()) nodes_.insert(NodeIdentity(node.id()));
}

grpc::Status CallerPolicy::AllowClient(const grpc::ServerContext& context) const {
  if (!tls_) return grpc::Status::OK;
  grpc::Status refused;
  std::optional<std::string> identity = IdentityOf(context, &refused);
  if (!identity) return refused;
  if (absl::StartsWith(*identity, kClientIdentityPrefix)) return grpc::Status::OK;
  return Denied(*identity, "the client API (KvService)",
                absl::StrCat("client certificates (", kClientIdentityPrefix, "NAME)"));
}

grpc::Status CallerPolicy::AllowNode(const grpc::ServerContext& context) const {
  if (!tls_) return grpc::Status::OK;
  grpc::Status refused;
  std::optional<std::string> identity = IdentityOf(context, &refused);
  if (!identity) return refused;
  if (nodes_.contains(*identity)) return grpc::Status::OK;
  return Denied(
      *identity, "the replica protocol (ReplicaService)",
      absl::StrCat("the nodes of the cluster config (", absl::StrJoin(nodes_, ", "), ")"));
}

grpc::Status CallerPolicy::AllowClaimedNode(const grpc::ServerContext& context,
                                            const std::string& from) const {
  if (!tls_) return grpc::Status::OK;
  std::optional<std::string> identity = CallerIdentity(context);
  if (identity.has_value() && *identity == NodeIdentity(from)) return grpc::Status::OK;
  return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                      absl::StrCat("a call from \"", identity.value_or("(no certificate)"),
                                   "\" says it comes from node ", from));
}

grpc::Status CallerPolicy::AllowFaultInjector(const grpc::ServerContext& context) const {
  if (!tls_) return grpc::Status::OK;
  grpc::Status refused;
  std::optional<std::string> identity = IdentityOf(context, &refused);
  if (!identity) return refused;
  if (fault_injectors_.contains(*identity)) return grpc::Status::OK;
  return Denied(
      *identity, "fault injection (AdminService)",
      fault_injectors_.empty()
          ? std::string("no one (kvnode --fault-injector names who may)")
          : absl::StrCat(absl::StrJoin(fault_injectors_, ", "), " (kvnode --fault-injector)"));
}

}  // namespace quorumkv
