// A quorumkv cluster of kvnode processes on loopback, kept in a directory so
// that separate kvharness invocations can manage it:
//
//   D/cluster.textproto   the cluster config every node runs with
//   D/endpoints           client endpoints, "HOST:PORT,HOST:PORT,..."
//   D/nodes/<id>/         a node's data directory
//   D/watermarks/         the nodes' write watermarks (storage/rocksdb_engine.h)
//   D/logs/<id>.log       a node's stderr
//   D/pids/<id>.pid       the pid of a running node (proxy.pid: the proxy's)
//   D/proxy/links         the proxy's links (link_proxy.h), with proxies
//   D/faults/links        the link faults in place (link_proxy.h)
//   D/faults/<id>.textproto  faults injected inside a node (AdminService)
//   D/netns               present when the nodes run in network namespaces
//
// Processes are started detached (their own session), so they outlive the
// kvharness command that started them. With proxies, every directed link
// between two nodes, and from clients to each node, runs through
// `kvharness proxy` (proxy_daemon.h): the config's `links` route the nodes'
// calls through it and D/endpoints lists its client ports.
#ifndef QUORUMKV_TOOLS_KVHARNESS_LOCAL_CLUSTER_H_
#define QUORUMKV_TOOLS_KVHARNESS_LOCAL_CLUSTER_H_

#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/admin.pb.h"
#include "proto/config.pb.h"
#include "security/tls_files.h"
#include "tools/kvharness/free_ports.h"
#include "tools/kvharness/link_proxy.h"
#include "tools/kvharness/netns.h"

namespace quorumkv {

// The port of every node of a --netns cluster (each has its own address).
inline constexpr int kNetnsNodePort = 7100;

struct UpOptions {
  int nodes = 3;
  int replicas = 3;
  int base_port = 0;              // 0: free ports chosen by the kernel
  bool sync_writes = true;        // false: acks before fsync (kvbench --kv-sync off)
  bool last_writer_wins = false;  // every key's conflict policy is LWW
  // Every link through the fault-injecting proxy (kvharness's own clusters);
  // without it the link commands fail and clients talk to nodes directly.
  bool proxies = false;
  // Merged into the config after the above (a scenario's settings); must
  // not set nodes or links.
  v1::ClusterConfig config;
  // Every node in its own network namespace, link faults by iptables
  // (netns.h; root only). Excludes proxies.
  bool netns = false;
  // Plaintext instead of mutual TLS (cluster_tls.h: certificates in
  // D/tls, made new by each up).
  bool insecure = false;
};

enum class ProcessState { kStopped, kRunning, kPaused };

struct NodeState {
  std::string id;
  std::string address;
  ProcessState process = ProcessState::kStopped;
  pid_t pid = 0;
  bool ready = false;  // answers requests (storage open)
};

// Not thread-safe; one instance per command.
class LocalCluster {
 public:
  // `kvnode` is the path of the kvnode binary.
  LocalCluster(std::string dir, std::string kvnode);

  // Writes a fresh config (wiping any earlier cluster's data in the
  // directory), starts every node and waits until each is ready.
  // FAILED_PRECONDITION if a cluster in the directory is still running.
  absl::Status Up(const UpOptions& options, absl::Duration ready_timeout = absl::Seconds(60));
  // Stops every node: SIGTERM, then SIGKILL after `grace`. Data and logs stay.
  absl::Status Down(absl::Duration grace = absl::Seconds(10));

  absl::Status Kill(const std::string& node);    // SIGKILL
  absl::Status Pause(const std::string& node);   // SIGSTOP
  absl::Status Resume(const std::string& node);  // SIGCONT
  // Starts a stopped node (stopping it first if it runs) and waits until
  // it is ready.
  absl::Status Restart(const std::string& node, absl::Duration ready_timeout = absl::Seconds(60));

  // Link faults (link_proxy.h), between endpoints: node ids, "client" and
  // "*" (every node). Each returns once the proxy applies the change.
  // FAILED_PRECONDITION when the cluster has no proxy running.
  // Every byte between a node of `side_a` and one of `side_b` vanishes.
  absl::Status Partition(const std::vector<std::string>& side_a,
                         const std::vector<std::string>& side_b);
  // Partition({node}, every other node).
  absl::Status Isolate(const std::string& node);
  absl::Status Drop(const std::string& from, const std::string& to);
  absl::Status Reset(const std::string& from, const std::string& to);
  // Bytes from `from` to `to` take `delay` plus up to `jitter` more; zero
  // removes the delay.
  absl::Status Delay(const std::string& from, const std::string& to, absl::Duration delay,
                     absl::Duration jitter = absl::ZeroDuration());
  // Faults inside a node (AdminService.SetFaults), kept in
  // D/faults/<node>.textproto and applied again when it restarts.
  // Its storage writes fail RESOURCE_EXHAUSTED ("disk full"); reads go on.
  absl::Status DiskFull(const std::string& node, bool full);
  // Its clock runs `skew` ahead (negative: behind).
  absl::Status Skew(const std::string& node, absl::Duration skew);
  // Per node with any: its faults.
  absl::StatusOr<std::map<std::string, v1::SetFaultsRequest>> NodeFaults() const;

  // The link proxy's process, if it runs.
  std::optional<pid_t> ProxyPid() const { return RunningPidOf(PidFile("proxy"), "kvharness"); }
  // The link faults in place (empty without a proxy).
  absl::StatusOr<LinkFaults> ActiveLinkFaults() const;
  // Removes every injected fault: link faults and faults inside nodes.
  absl::Status Heal();

  absl::StatusOr<std::vector<NodeState>> Status();
  // "HOST:PORT,..." as written to D/endpoints.
  absl::StatusOr<std::string> Endpoints() const;
  absl::StatusOr<std::string> EndpointOf(const std::string& node) const;
  absl::StatusOr<v1::ClusterConfig> Config() const;
  const std::string& dir() const { return dir_; }
  // Where the nodes keep their write watermarks (kvnode --watermark-dir).
  std::string WatermarkDir() const { return Path("watermarks"); }
  // Where `node` serves /metrics (D/metrics: a line "ID HOST:PORT" per node).
  absl::StatusOr<std::string> MetricsAddressOf(const std::string& node) const;
  // Whether the cluster runs mutual TLS (D/tls holds its certificates).
  bool Tls() const;
  // The certificate files clients use (cluster_tls.h); empty without TLS.
  TlsFiles ClientTls() const;
  // Credentials of the harness's own calls (health checks, faults).
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> HarnessCredentials() const;

 private:
  absl::Status UpOnce(const UpOptions& options, absl::Duration ready_timeout);
  std::string Path(const std::string& relative) const;
  std::string PidFile(const std::string& node) const;
  std::optional<pid_t> RunningPid(const std::string& node) const;
  // The pid in `pid_file` if it runs `binary` (a recycled pid does not).
  std::optional<pid_t> RunningPidOf(const std::string& pid_file, const std::string& binary) const;
  // Writes D/proxy/links and the config's links for `config`'s nodes, on
  // `ports` (nodes squared of them); returns the client endpoints, in node
  // order.
  absl::StatusOr<std::vector<std::string>> PlanProxies(const std::vector<int>& ports,
                                                       v1::ClusterConfig* config);
  absl::Status StartProxy(absl::Time deadline);
  // The cluster's network namespaces, if it runs in them (D/netns).
  std::optional<NetnsNetwork> Network() const;
  // Creates the namespaces for `config`'s nodes and gives each its address.
  absl::Status PlanNetns(v1::ClusterConfig* config);
  absl::Status StopProxy(absl::Duration grace);
  // Applies `change` to the link faults, waits until the proxy has them.
  absl::Status ChangeLinkFaults(const std::function<void(LinkFaults*)>& change);
  absl::Status ChangeNetnsFaults(const NetnsNetwork& network,
                                 const std::function<void(LinkFaults*)>& change);
  absl::Status CheckEndpoint(const std::string& endpoint) const;
  absl::Status CheckKnown(const std::string& node) const;
  absl::Status Start(const std::string& node);
  absl::Status WaitReady(const std::string& node, absl::Time deadline);
  absl::Status Stop(const std::string& node, absl::Duration grace);
  absl::Status Signal(const std::string& node, int signal);
  absl::Status ApplyFaults(const std::string& node);
  absl::Status ChangeNodeFaults(const std::string& node,
                                const std::function<void(v1::SetFaultsRequest*)>& change);

  const std::string dir_;
  const std::string kvnode_;
  const std::string kvharness_;  // beside kvnode: runs the proxy
};

}  // namespace quorumkv

#endif  // QUORUMKV_TOOLS_KVHARNESS_LOCAL_CLUSTER_H_
