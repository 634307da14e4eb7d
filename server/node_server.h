// server/: kvnode, the process that holds replicas. NodeServer wires the
// pieces together: RocksDB engine -> replica store -> ReplicaNode, with the
// gRPC transport to its peers, the client and replica services (served,
// like the transport's calls, on completion queues), the gRPC health
// service (SERVING only once storage is open) and reflection.
#ifndef QUORUMKV_SERVER_NODE_SERVER_H_
#define QUORUMKV_SERVER_NODE_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/config.pb.h"
#include "replication/clock.h"
#include "replication/replica_node.h"
#include "security/tls_files.h"
#include "server/grpc_transport.h"
#include "server/health_service.h"
#include "server/metrics.h"
#include "server/metrics_endpoint.h"
#include "server/services.h"
#include "server/system_clock.h"
#include "server/worker_pool.h"
#include "storage/engine_replica_store.h"
#include "storage/fault_injection_engine.h"
#include "storage/logged_engine.h"
#include "storage/rocksdb_engine.h"

namespace quorumkv {

struct NodeServerOptions {
  std::string node_id;
  v1::ClusterConfig config;  // validated
  std::string data_dir;      // created if missing
  // Where the engine keeps its write watermark (storage/rocksdb_engine.h).
  std::string watermark_dir = RocksDbEngineOptions::kDefaultWatermarkDir;
  std::string listen_address;  // default: the node's address in the config
  absl::Duration clock_skew;   // added to the system clock (fault injection)
  // The replica pool: writes of other nodes that carry hints (the rest
  // join the write groups, on the writer thread).
  int replica_threads = 16;
  // Completion queues, each with one thread that polls the sockets and
  // serves the calls (completion_queue.h). One is cheapest per call; more
  // spread the network work of one node over cores.
  int queue_threads = 1;
  size_t max_queued_requests = 1024;   // per pool; beyond it, RESOURCE_EXHAUSTED
  bool allow_fault_injection = false;  // AdminService.SetFaults (for the harness)
  // Mutual TLS with this node's certificate ("node:<id>"); every caller
  // must present one of the same CA (server/caller_policy.h says who may
  // call what). Unset: plaintext, which Start refuses on an address other
  // than loopback unless `insecure`.
  std::optional<TlsMaterial> tls;
  bool insecure = false;
  // Under TLS, who may inject faults (with allow_fault_injection).
  std::vector<std::string> fault_injectors = {"client:kvharness"};
  // Where to serve /metrics over HTTP ("HOST:PORT", port 0: any); empty:
  // nowhere.
  std::string metrics_listen;
};

// INVALID_ARGUMENT if the TLS certificate is not the node's own;
// FAILED_PRECONDITION for plaintext on an address other than loopback
// without `insecure`.
absl::Status CheckTransportSecurity(const NodeServerOptions& options);

// Reads and validates a cluster.textproto file.
absl::StatusOr<v1::ClusterConfig> LoadClusterConfigFile(const std::string& path);

class NodeServer {
 public:
  // HTTP/2 streams (calls) one connection may have open at once.
  static constexpr int kMaxStreamsPerConnection = 256;

  // Listens, opens storage, then reports SERVING. On error nothing is left
  // running.
  static absl::StatusOr<std::unique_ptr<NodeServer>> Start(NodeServerOptions options);
  // Shutdown().
  ~NodeServer();

  // Stops accepting calls, lets those in flight finish (up to `grace`),
  // then closes storage. Idempotent.
  void Shutdown(absl::Duration grace = absl::Seconds(2));

  const std::string& actor() const { return store_->actor(); }
  int port() const { return port_; }
  // The port of /metrics; 0 without one.
  int metrics_port() const { return metrics_endpoint_ ? metrics_endpoint_->port() : 0; }

 private:
  explicit NodeServer(NodeServerOptions options);
  absl::Status Listen();
  absl::Status OpenStorage();
  const TlsMaterial* TlsOrNull() const { return options_.tls ? &*options_.tls : nullptr; }

  const NodeServerOptions options_;
  SystemClock clock_;
  NodeMetrics metrics_;
  // Writes the groups of the puts this node coordinates (write_group.h):
  // one group at a time, so one thread.
  WorkerPool writer_pool_;
  WorkerPool replica_pool_;
  // Answers exchanges, one at a time, niced (thread_priority.h): each peer
  // has at most this many exchanges out, one request each.
  static constexpr size_t kExchangesPerPeer = 8;
  WorkerPool repair_pool_;
  DelayQueue delays_{100'000};
  ServiceContext context_;
  KvServiceImpl kv_service_{&context_};
  ReplicaServiceImpl replica_service_{&context_};
  AdminServiceImpl admin_service_{&context_};
  HealthServiceImpl health_service_;
  std::unique_ptr<grpc::Server> server_;
  // From Listen until Shutdown, which drains them after every call in
  // flight on them, served or sent, has ended.
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> queues_;
  std::vector<std::thread> queue_threads_;
  int port_ = 0;
  std::unique_ptr<RocksDbEngine> engine_;
  // With fault injection, the store writes through it (disk-full).
  std::unique_ptr<FaultInjectionEngine> disk_;
  // Over disk_ (or engine_): logs storage failures, once per episode.
  std::unique_ptr<LoggedEngine> logged_engine_;
  std::unique_ptr<EngineReplicaStore> store_;
  std::unique_ptr<GrpcTransport> transport_;
  std::unique_ptr<ReplicaNode> node_;
  // Started last, stopped first: a scrape reads node_, engine_ and context_.
  std::unique_ptr<MetricsEndpoint> metrics_endpoint_;
  std::string RenderMetrics();
  bool shut_down_ = false;

  // The background bulkhead: one thread running ReplicaNode::Tick (pings,
  // hinted handoff) every kTickInterval until Shutdown.
  static constexpr absl::Duration kTickInterval = absl::Milliseconds(20);
  // Anti-entropy's bulkhead: a thread of its own running
  // ReplicaNode::AntiEntropyTick, whose rounds block on the store, so that
  // pings and handoff never wait for them.
  void RunTicks(void (ReplicaNode::*tick)());
  absl::Mutex tick_mu_;
  bool ticking_ ABSL_GUARDED_BY(tick_mu_) = true;
  std::thread ticker_;
  std::thread anti_entropy_ticker_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_SERVER_NODE_SERVER_H_
