// kvnode: one quorumkv node. See `kvnode --help`.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/node_server.h"
#include "server/stderr_log.h"

namespace {

// Blocks SIGTERM and SIGINT in every thread; main waits for them with sigwait.
sigset_t BlockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

}  // namespace

int main(int argc, char** argv) {
  // Abseil's mutex deadlock detection (on in this Abseil build) keeps a
  // lock graph updated on every acquisition: a few percent of a node's CPU.
  // The unit tests and the simulator run the same code with it on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  CLI::App app{
      "kvnode: a quorumkv node. Holds replicas in RocksDB, coordinates client requests, and\n"
      "serves the client API, the replica protocol, gRPC health and reflection on one port,\n"
      "over mutual TLS with --ca/--cert/--key (plaintext only on loopback, or with --insecure).\n"
      "Stops cleanly on SIGTERM or SIGINT."};
  std::string config_path, node_id, data_dir, listen;
  int64_t skew_ms = 0;
  quorumkv::NodeServerOptions options;
  app.add_option("--config", config_path, "cluster.textproto (ClusterConfig)")->required();
  app.add_option("--id", node_id, "this node's id in the config")->required();
  app.add_option("--data-dir", data_dir, "directory of this node's data (created if missing)")
      ->required();
  app.add_option("--listen", listen, "address to listen on (default: the node's config address)");
  app.add_option("--watermark-dir", options.watermark_dir,
                 "where to keep the record of the last write the node acknowledged: outside "
                 "the data directory, in a directory a machine restart clears (or one that "
                 "outlives the process at least). After an unclean stop, a restart that finds "
                 "fewer writes than recorded, or no record, comes back under a new actor "
                 "generation with every partition marked for repair")
      ->capture_default_str();
  app.add_option("--clock-skew-ms", skew_ms, "run this node's clock ahead (>0) or behind (<0)");
  app.add_option("--replica-threads", options.replica_threads,
                 "threads writing the hints this node keeps for other nodes (they wait for "
                 "fsync); replica writes share the node's write groups instead")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--queue-threads", options.queue_threads,
                 "threads serving and sending calls, each polling its own completion queue "
                 "(gets, replica reads and the rest of the network work run on them)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_flag("--allow-fault-injection", options.allow_fault_injection,
               "accept AdminService.SetFaults (link delays, disk full, clock skew), as kvharness "
               "does; under TLS only from a --fault-injector");
  app.add_option("--fault-injector", options.fault_injectors,
                 "under TLS, the certificate identity (common name) allowed to inject faults; "
                 "repeat for several")
      ->capture_default_str();
  app.add_option("--metrics-listen", options.metrics_listen,
                 "serve Prometheus metrics over HTTP at http://HOST:PORT/metrics (port 0: any "
                 "free one; if it cannot be bound the node logs it and serves without them); "
                 "default: none (docs/operations.md)");
  quorumkv::TlsFiles tls;
  app.add_option("--ca", tls.ca,
                 "the cluster's CA certificate (PEM): every caller must present a certificate it "
                 "signed (mutual TLS)");
  app.add_option("--cert", tls.cert,
                 "this node's certificate (PEM), common name node:<id>, naming the addresses "
                 "peers and clients dial it at");
  app.add_option("--key", tls.key, "this node's private key (PEM)");
  app.add_flag("--insecure", options.insecure,
               "allow plaintext on an address other than loopback: anyone who reaches the port "
               "can then read, write and forge replica traffic");
  std::string log_level = "info";
  app.add_option("--log-level", log_level,
                 "the least severe events logged: debug, info, warn or error. Lines go to "
                 "stderr, one per event: ts=... level=... node=... event=... and key=value "
                 "fields; conditions that recur (disk full, shedding, hint expiry, many "
                 "siblings, storage corruption) log once per episode (docs/operations.md)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  absl::StatusOr<quorumkv::LogLevel> min_level = quorumkv::ParseLogLevel(log_level);
  if (!min_level.ok()) {
    std::fprintf(stderr, "kvnode: --log-level: %s\n",
                 std::string(min_level.status().message()).c_str());
    return 2;
  }
  quorumkv::SetMinLogLevel(*min_level);
  quorumkv::SetLogSink(quorumkv::StderrSinkFor(node_id));

  absl::StatusOr<quorumkv::v1::ClusterConfig> config = quorumkv::LoadClusterConfigFile(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "kvnode: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  if (!tls.empty()) {
    absl::StatusOr<quorumkv::TlsMaterial> material = quorumkv::LoadTlsMaterial(tls);
    if (!material.ok()) {
      std::fprintf(stderr, "kvnode %s: %s\n", node_id.c_str(),
                   std::string(material.status().message()).c_str());
      return 2;
    }
    options.tls = *std::move(material);
  }
  const sigset_t signals = BlockShutdownSignals();
  options.node_id = node_id;
  options.config = *std::move(config);
  options.data_dir = data_dir;
  options.listen_address = listen;
  options.clock_skew = absl::Milliseconds(skew_ms);
  absl::StatusOr<std::unique_ptr<quorumkv::NodeServer>> server =
      quorumkv::NodeServer::Start(std::move(options));
  if (!server.ok()) {
    std::fprintf(stderr, "kvnode %s: %s\n", node_id.c_str(), server.status().ToString().c_str());
    return 1;
  }
  using quorumkv::LogEvent;
  using quorumkv::LogLevel;
  LogEvent(LogLevel::kInfo, "node_ready",
           {{"port", (*server)->port()},
            {"actor", (*server)->actor()},
            {"data", data_dir},
            {"transport", tls.empty() ? "plaintext" : "mutual_tls"}});
  if ((*server)->metrics_port() > 0) {
    LogEvent(LogLevel::kInfo, "metrics_ready", {{"port", (*server)->metrics_port()}});
  }
  int signal = 0;
  sigwait(&signals, &signal);
  LogEvent(LogLevel::kInfo, "node_stopping", {{"signal", strsignal(signal)}});
  (*server)->Shutdown();
  LogEvent(LogLevel::kInfo, "node_stopped", absl::Span<const quorumkv::LogField>());
  return 0;
}
