#include "tools/kvharness/local_cluster.h"

#include <google/protobuf/text_format.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "proto/admin.grpc.pb.h"
#include "proto/health.grpc.pb.h"
#include "replication/cluster_config.h"
#include "replication/status_macros.h"
#include "security/tls_credentials.h"
#include "tools/kvharness/cluster_tls.h"
#include "tools/kvharness/process.h"
#include "tools/kvharness/readiness.h"

namespace quorumkv {
namespace fs = std::filesystem;

LocalCluster::LocalCluster(std::string dir, std::string kvnode)
    : dir_(std::move(dir)),
      kvnode_(std::move(kvnode)),
      kvharness_((fs::path(kvnode_).parent_path() / "kvharness").string()) {}

std::string LocalCluster::Path(const std::string& relative) const {
  return (fs::path(dir_) / relative).string();
}

std::string LocalCluster::PidFile(const std::string& node) const {
  return Path(absl::StrCat("pids/", node, ".pid"));
}

absl::StatusOr<v1::ClusterConfig> LocalCluster::Config() const {
  absl::StatusOr<std::string> text = ReadTextFile(Path("cluster.textproto"));
  if (!text.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("no cluster in ", dir_, " (start one with kvharness up)"));
  }
  return ParseClusterConfig(*text);
}

absl::StatusOr<std::string> LocalCluster::MetricsAddressOf(const std::string& node) const {
  ASSIGN_OR_RETURN(std::string text, ReadTextFile(Path("metrics")));
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::pair<std::string, std::string> fields = absl::StrSplit(line, absl::MaxSplits(' ', 1));
    if (fields.first == node) return fields.second;
  }
  return absl::NotFoundError(absl::StrCat("no metrics address of ", node, " in ", Path("metrics")));
}

bool LocalCluster::Tls() const {
  std::error_code error;
  return fs::exists(Path("tls/ca.pem"), error);
}

TlsFiles LocalCluster::ClientTls() const {
  return Tls() ? TlsFilesIn(Path("tls"), kClientTlsName) : TlsFiles{};
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> LocalCluster::HarnessCredentials() const {
  if (!Tls()) return grpc::InsecureChannelCredentials();
  ASSIGN_OR_RETURN(TlsMaterial material, LoadTlsMaterial(TlsFilesIn(Path("tls"), kHarnessTlsName)));
  return ChannelCredentialsFor(&material);
}

absl::StatusOr<std::string> LocalCluster::Endpoints() const {
  ASSIGN_OR_RETURN(std::string text, ReadTextFile(Path("endpoints")));
  return std::string(absl::StripAsciiWhitespace(text));
}

absl::StatusOr<std::string> LocalCluster::EndpointOf(const std::string& node) const {
  ASSIGN_OR_RETURN(v1::ClusterConfig config, Config());
  const v1::NodeConfig* n = FindNode(config, node);
  if (n == nullptr) return absl::InvalidArgumentError(absl::StrCat("no node ", node));
  return n->address();
}

std::optional<pid_t> LocalCluster::RunningPid(const std::string& node) const {
  return RunningPidOf(PidFile(node), "kvnode");
}

std::optional<pid_t> LocalCluster::RunningPidOf(const std::string& pid_file,
                                                const std::string& binary) const {
  absl::StatusOr<std::string> text = ReadTextFile(pid_file);
  int pid = 0;
  if (!text.ok() || !absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &pid) || pid <= 0) {
    return std::nullopt;
  }
  ReapIfChild(pid);
  // A recycled pid is not our node.
  if (StateOf(pid) == PidState::kGone || fs::path(CommandOf(pid)).filename() != binary) {
    return std::nullopt;
  }
  return pid;
}

absl::Status LocalCluster::CheckKnown(const std::string& node) const {
  ASSIGN_OR_RETURN(v1::ClusterConfig config, Config());
  if (FindNode(config, node) == nullptr) {
    std::vector<std::string> ids;
    for (const auto& n : config.nodes()) ids.push_back(n.id());
    return absl::InvalidArgumentError(
        absl::StrCat("no node ", node, " in ", dir_, " (nodes: ", absl::StrJoin(ids, ", "), ")"));
  }
  return absl::OkStatus();
}

namespace {

// A port picked free was taken by another process before ours bound it.
bool LostAPickedPort(const absl::Status& status) {
  return absl::StrContains(absl::AsciiStrToLower(status.message()), "in use");
}

}  // namespace

absl::Status LocalCluster::Up(const UpOptions& options, absl::Duration ready_timeout) {
  absl::Status status = UpOnce(options, ready_timeout);
  // Ports picked by the kernel can be taken by another process between the
  // pick and the bind: pick others, a bounded number of times.
  const bool own_ports = options.base_port == 0 && !options.netns;
  for (int attempt = 1; own_ports && attempt < 3 && LostAPickedPort(status); ++attempt) {
    std::fprintf(stderr, "kvharness: a port was taken while starting (%s); again on others\n",
                 std::string(status.message().substr(0, 200)).c_str());
    RETURN_IF_ERROR(Down());
    status = UpOnce(options, ready_timeout);
  }
  return status;
}

absl::Status LocalCluster::UpOnce(const UpOptions& options, absl::Duration ready_timeout) {
  if (options.nodes < 1 || options.nodes > 64) {
    return absl::InvalidArgumentError(absl::StrCat("--nodes ", options.nodes, " is not in 1..64"));
  }
  if (options.replicas < 1 || options.replicas > options.nodes) {
    return absl::InvalidArgumentError(absl::StrCat("--replicas ", options.replicas,
                                                   " is not in 1..", options.nodes, " (--nodes)"));
  }
  if (absl::StatusOr<v1::ClusterConfig> old = Config(); old.ok()) {
    if (RunningPidOf(PidFile("proxy"), "kvharness")) {
      return absl::FailedPreconditionError(
          absl::StrCat("a cluster is running in ", dir_, " (kvharness down first)"));
    }
    for (const auto& n : old->nodes()) {
      if (RunningPid(n.id())) {
        return absl::FailedPreconditionError(
            absl::StrCat("a cluster is running in ", dir_, " (kvharness down first)"));
      }
    }
  }
  // Every port in one pick, so that they are distinct: a proxy's port
  // picked later could be one a node was given and has not bound yet.
  if (options.netns) RETURN_IF_ERROR(NetnsNetwork::CheckAllowed());
  const int proxy_ports = options.proxies ? options.nodes * options.nodes : 0;
  const int metrics_ports = options.netns ? 0 : options.nodes;
  const int picked =
      (options.base_port > 0 || options.netns ? 0 : options.nodes) + proxy_ports + metrics_ports;
  ASSIGN_OR_RETURN(std::vector<int> ports, PickFreePorts(picked));
  // The last ones serve the nodes' metrics.
  const std::vector<int> metrics_port_list(ports.end() - metrics_ports, ports.end());
  ports.resize(ports.size() - metrics_ports);
  if (options.netns) {
    ports.assign(options.nodes, kNetnsNodePort);  // a namespace each: the same port
  } else if (options.base_port > 0) {
    for (int i = 0; i < options.nodes; ++i) {
      const int port = options.base_port + i;
      if (std::find(ports.begin(), ports.end(), port) != ports.end()) {
        return absl::UnavailableError(absl::StrCat("port ", port, " of --base-port ",
                                                   options.base_port,
                                                   " was given to a proxy; "
                                                   "choose another --base-port"));
      }
    }
    std::vector<int> with_nodes;
    for (int i = 0; i < options.nodes; ++i) with_nodes.push_back(options.base_port + i);
    with_nodes.insert(with_nodes.end(), ports.begin(), ports.end());
    ports = std::move(with_nodes);
  }
  // ports: the nodes' first, then the proxies'.
  const std::vector<int> proxy_port_list(ports.begin() + options.nodes, ports.end());
  std::error_code ec;
  for (const char* sub : {"nodes", "pids", "logs", "faults", "watermarks", "proxy", "tls"}) {
    fs::remove_all(Path(sub), ec);
    fs::create_directories(Path(sub), ec);
  }
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir_, ": ", ec.message()));

  v1::ClusterConfig config;
  std::vector<std::string> endpoints;
  for (int i = 0; i < options.nodes; ++i) {
    v1::NodeConfig* n = config.add_nodes();
    n->set_id(absl::StrCat("n", i + 1));
    n->set_address(absl::StrCat("127.0.0.1:", ports[i]));
    endpoints.push_back(n->address());
  }
  config.set_replication_factor(options.replicas);
  config.set_default_r(options.replicas / 2 + 1);
  config.set_default_w(options.replicas / 2 + 1);
  if (!options.sync_writes) config.set_sync_writes(false);
  if (options.last_writer_wins) config.set_default_conflict(v1::CONFLICT_LWW);
  // Keys under lww/ are last-writer-wins whatever the default (demo lww-loss).
  v1::NamespaceConfig* lww = config.add_namespaces();
  lww->set_name("lww");
  lww->set_conflict(v1::CONFLICT_LWW);
  config.MergeFrom(options.config);
  std::error_code removed;
  fs::remove(Path("netns"), removed);
  if (options.netns) {
    if (options.proxies) return absl::InvalidArgumentError("--netns runs without proxies");
    RETURN_IF_ERROR(PlanNetns(&config));
    endpoints.clear();
    for (const auto& n : config.nodes()) endpoints.push_back(n.address());
  } else if (options.proxies) {
    ASSIGN_OR_RETURN(endpoints, PlanProxies(proxy_port_list, &config));
  }
  std::string text;
  google::protobuf::TextFormat::PrintToString(config, &text);
  RETURN_IF_ERROR(WriteFileAtomically(Path("cluster.textproto"), text));
  RETURN_IF_ERROR(WriteFileAtomically(Path("endpoints"), absl::StrJoin(endpoints, ",") + "\n"));
  std::string metrics;
  for (int i = 0; i < config.nodes_size(); ++i) {
    const std::string& address = config.nodes(i).address();
    const std::string host = address.substr(0, address.rfind(':'));
    absl::StrAppend(&metrics, config.nodes(i).id(), " ",
                    options.netns ? absl::StrCat(host, ":", kNetnsNodePort + 1)
                                  : absl::StrCat("127.0.0.1:", metrics_port_list[i]),
                    "\n");
  }
  RETURN_IF_ERROR(WriteFileAtomically(Path("metrics"), metrics));
  if (options.insecure) {
    fs::remove_all(Path("tls"), ec);
  } else {
    RETURN_IF_ERROR(WriteClusterTls(Path("tls"), config));
  }

  const absl::Time deadline = absl::Now() + ready_timeout;
  if (options.proxies) RETURN_IF_ERROR(StartProxy(deadline));
  for (const auto& n : config.nodes()) RETURN_IF_ERROR(Start(n.id()));
  for (const auto& n : config.nodes()) RETURN_IF_ERROR(WaitReady(n.id(), deadline));
  return absl::OkStatus();
}

absl::Status LocalCluster::Start(const std::string& node) {
  std::vector<std::string> argv = {kvnode_,
                                   "--config",
                                   Path("cluster.textproto"),
                                   "--id",
                                   node,
                                   "--data-dir",
                                   Path(absl::StrCat("nodes/", node)),
                                   "--watermark-dir",
                                   WatermarkDir(),
                                   "--allow-fault-injection"};
  if (absl::StatusOr<std::string> metrics = MetricsAddressOf(node); metrics.ok()) {
    argv.insert(argv.end(), {"--metrics-listen", *metrics});
  }
  if (Tls()) {
    const TlsFiles files = TlsFilesIn(Path("tls"), node);
    argv.insert(argv.end(), {"--ca", files.ca, "--cert", files.cert, "--key", files.key,
                             "--fault-injector", ClientIdentity("kvharness")});
  } else {
    argv.push_back("--insecure");  // a --netns cluster listens off loopback
  }
  std::optional<NetnsNetwork> network = Network();
  ASSIGN_OR_RETURN(pid_t pid, SpawnDetached(argv, Path(absl::StrCat("logs/", node, ".log")),
                                            network ? network->Namespace(node) : ""));
  return WriteFileAtomically(PidFile(node), absl::StrCat(pid, "\n"));
}

absl::Status LocalCluster::WaitReady(const std::string& node, absl::Time deadline) {
  ASSIGN_OR_RETURN(std::string address, EndpointOf(node));
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ChannelCredentials> credentials, HarnessCredentials());
  const auto alive = [&]() -> absl::Status {
    if (RunningPid(node)) return absl::OkStatus();
    return absl::InternalError(
        absl::StrCat("node ", node, " exited while starting; its log:\n",
                     TailOfFile(Path(absl::StrCat("logs/", node, ".log")), 10)));
  };
  absl::Status serving = WaitServing(address, credentials, deadline, alive);
  if (absl::IsDeadlineExceeded(serving)) {
    return absl::DeadlineExceededError(
        absl::StrCat("node ", node, " not ready in time: ", serving.message()));
  }
  return serving;
}

absl::Status LocalCluster::Stop(const std::string& node, absl::Duration grace) {
  std::optional<pid_t> pid = RunningPid(node);
  if (pid) {
    kill(*pid, SIGCONT);  // a paused node cannot handle SIGTERM
    kill(*pid, SIGTERM);
    if (!WaitGone(*pid, absl::Now() + grace)) {
      kill(*pid, SIGKILL);
      WaitGone(*pid, absl::Now() + absl::Seconds(10));
    }
  }
  std::error_code ec;
  fs::remove(PidFile(node), ec);
  return absl::OkStatus();
}

absl::Status LocalCluster::Down(absl::Duration grace) {
  ASSIGN_OR_RETURN(v1::ClusterConfig config, Config());
  for (const auto& n : config.nodes()) RETURN_IF_ERROR(Stop(n.id(), grace));
  RETURN_IF_ERROR(StopProxy(grace));
  if (std::optional<NetnsNetwork> network = Network()) {
    network->Destroy();
    std::error_code ec;
    fs::remove(Path("netns"), ec);
  }
  return absl::OkStatus();
}

absl::Status LocalCluster::Signal(const std::string& node, int signal) {
  RETURN_IF_ERROR(CheckKnown(node));
  std::optional<pid_t> pid = RunningPid(node);
  if (!pid) return absl::FailedPreconditionError(absl::StrCat("node ", node, " is not running"));
  if (kill(*pid, signal) != 0) {
    return absl::InternalError(absl::StrCat("kill ", *pid, ": ", strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status LocalCluster::Kill(const std::string& node) {
  std::optional<pid_t> pid = RunningPid(node);
  RETURN_IF_ERROR(Signal(node, SIGKILL));
  if (!WaitGone(*pid, absl::Now() + absl::Seconds(10))) {
    return absl::InternalError(absl::StrCat("node ", node, " survived SIGKILL"));
  }
  std::error_code ec;
  fs::remove(PidFile(node), ec);
  return absl::OkStatus();
}

absl::Status LocalCluster::Pause(const std::string& node) { return Signal(node, SIGSTOP); }
absl::Status LocalCluster::Resume(const std::string& node) { return Signal(node, SIGCONT); }

absl::Status LocalCluster::Restart(const std::string& node, absl::Duration ready_timeout) {
  RETURN_IF_ERROR(CheckKnown(node));
  RETURN_IF_ERROR(Stop(node, absl::Seconds(10)));
  RETURN_IF_ERROR(Start(node));
  RETURN_IF_ERROR(WaitReady(node, absl::Now() + ready_timeout));
  return ApplyFaults(node);
}

absl::Status LocalCluster::ApplyFaults(const std::string& node) {
  v1::SetFaultsRequest faults;
  absl::StatusOr<std::string> text =
      ReadTextFile(Path(absl::StrCat("faults/", node, ".textproto")));
  if (text.ok() && !google::protobuf::TextFormat::ParseFromString(*text, &faults)) {
    return absl::DataLossError(absl::StrCat("faults of ", node, " do not parse"));
  }
  ASSIGN_OR_RETURN(std::string address, EndpointOf(node));
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ChannelCredentials> credentials, HarnessCredentials());
  auto stub = v1::AdminService::NewStub(grpc::CreateChannel(address, credentials));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  v1::SetFaultsResponse response;
  grpc::Status status = stub->SetFaults(&context, faults, &response);
  if (!status.ok()) {
    return absl::UnavailableError(
        absl::StrCat("cannot set faults on ", node, ": ", status.error_message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<NodeState>> LocalCluster::Status() {
  ASSIGN_OR_RETURN(v1::ClusterConfig config, Config());
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ChannelCredentials> credentials, HarnessCredentials());
  std::vector<NodeState> states;
  for (const auto& n : config.nodes()) {
    NodeState s{.id = n.id(), .address = n.address()};
    if (std::optional<pid_t> pid = RunningPid(n.id())) {
      s.pid = *pid;
      s.process =
          StateOf(*pid) == PidState::kStopped ? ProcessState::kPaused : ProcessState::kRunning;
      s.ready = s.process == ProcessState::kRunning &&
                IsServing(n.address(), absl::Milliseconds(500), credentials);
    }
    states.push_back(s);
  }
  return states;
}

}  // namespace quorumkv
