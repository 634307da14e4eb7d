// The certificates of a cluster, as kvharness lays them out in DIR/tls
// (and `kvharness certs` for a deployment):
//   ca.pem, ca-key.pem           the cluster's CA (the key signs the rest)
//   <id>.pem, <id>-key.pem       each node: "node:<id>", valid for the host
//                                of its address, 127.0.0.1 and localhost
//   client.pem, client-key.pem   "client:kvctl": kvctl and applications
//   kvharness.pem, -key.pem      "client:kvharness": the harness's own calls,
//                                the one identity nodes take faults from
// Keys are written readable by their owner only.
#ifndef QUORUMKV_TOOLS_KVHARNESS_CLUSTER_TLS_H_
#define QUORUMKV_TOOLS_KVHARNESS_CLUSTER_TLS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "proto/config.pb.h"

namespace quorumkv {

inline constexpr char kHarnessTlsName[] = "kvharness";
inline constexpr char kClientTlsName[] = "client";

struct ClusterTlsOptions {
  absl::Duration valid_for = absl::Hours(24 * 365);
  // More names or addresses every node certificate is valid for.
  std::vector<std::string> extra_hosts;
};

// Writes a new CA and the certificates of `config`'s nodes and of the
// clients into `dir` (created if missing; files there are replaced).
absl::Status WriteClusterTls(const std::string& dir, const v1::ClusterConfig& config,
                             const ClusterTlsOptions& options = {});

}  // namespace quorumkv

#endif  // QUORUMKV_TOOLS_KVHARNESS_CLUSTER_TLS_H_
