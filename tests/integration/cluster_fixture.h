// A test fixture with a fresh local cluster per test, driven through the
// kvharness and kvctl binaries exactly as a user would drive them.
#ifndef QUORUMKV_TESTS_INTEGRATION_CLUSTER_FIXTURE_H_
#define QUORUMKV_TESTS_INTEGRATION_CLUSTER_FIXTURE_H_

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "security/tls_files.h"
#include "tests/integration/command.h"

namespace quorumkv::testing {

class ClusterTest : public ::testing::Test {
 protected:
  // Starts `nodes` nodes with replication factor `replicas` in a fresh
  // directory on free loopback ports, with mutual TLS; kvctl runs with
  // the cluster's client certificate ($KVCTL_TLS_DIR). `tls` false: in
  // plaintext (kvharness up --insecure).
  // `config`: kvharness up --config (ClusterConfig text over the defaults).
  void StartCluster(int nodes = 3, int replicas = 3, const std::string& config = "",
                    bool tls = true);
  void TearDown() override;

  // DIR/logs/<node>.log: the node's log.
  std::string NodeLog(const std::string& node) const;
  // The lines of `node`'s log that contain every one of `parts`.
  std::vector<std::string> NodeLogLines(const std::string& node,
                                        const std::vector<std::string>& parts) const;
  CommandResult Harness(std::vector<std::string> args, absl::Duration timeout = absl::Seconds(60));
  // kvctl against every node of the cluster.
  CommandResult Kvctl(std::vector<std::string> args);
  // kvctl against one node only (that node coordinates).
  CommandResult KvctlVia(const std::string& node, std::vector<std::string> args);
  // kvctl --json; fails the test if the output does not parse.
  nlohmann::json KvctlJson(std::vector<std::string> args);
  // The certificate files of `name` in the cluster's D/tls (cluster_tls.h):
  // "client" (kvctl's), "kvharness", a node id.
  TlsFiles TlsOf(const std::string& name = "client") const;
  // Channel credentials of `name` (as TlsOf) for raw gRPC calls.
  std::shared_ptr<grpc::ChannelCredentials> CredentialsOf(const std::string& name = "client") const;
  // Polls `condition` (each poll runs a command, which paces the loop) until
  // it holds or `timeout` passes.
  bool WaitFor(absl::Duration timeout, const std::function<bool()>& condition);

  std::string dir_;
  std::string endpoints_;
  std::vector<std::string> node_endpoints_;  // index i: node n(i+1)
};

// The live sibling values of a `kvctl get --json` reply, in sibling order.
std::vector<std::string> LiveValues(const nlohmann::json& get);

}  // namespace quorumkv::testing

#endif  // QUORUMKV_TESTS_INTEGRATION_CLUSTER_FIXTURE_H_
