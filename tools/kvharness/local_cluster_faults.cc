// LocalCluster's faults: the link proxy and the faults it applies, and the
// faults inside nodes (AdminService.SetFaults).
#include <google/protobuf/text_format.h>
#include <signal.h>

#include <filesystem>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "replication/cluster_config.h"
#include "replication/status_macros.h"
#include "tools/kvharness/local_cluster.h"
#include "tools/kvharness/process.h"

namespace quorumkv {
namespace {

constexpr absl::Duration kApplyTimeout = absl::Seconds(5);

}  // namespace

absl::StatusOr<std::vector<std::string>> LocalCluster::PlanProxies(const std::vector<int>& ports,
                                                                   v1::ClusterConfig* config) {
  std::vector<ProxiedLink> links;
  std::vector<std::string> endpoints;
  size_t next = 0;
  for (const v1::NodeConfig& to : config->nodes()) {
    links.push_back(ProxiedLink{.from = kClientEndpoint,
                                .to = to.id(),
                                .listen_port = ports[next++],
                                .target = to.address()});
    endpoints.push_back(absl::StrCat("127.0.0.1:", links.back().listen_port));
    for (const v1::NodeConfig& from : config->nodes()) {
      if (from.id() == to.id()) continue;
      links.push_back(ProxiedLink{
          .from = from.id(), .to = to.id(), .listen_port = ports[next++], .target = to.address()});
      v1::LinkConfig* link = config->add_links();
      link->set_from(from.id());
      link->set_to(to.id());
      link->set_address(absl::StrCat("127.0.0.1:", links.back().listen_port));
    }
  }
  RETURN_IF_ERROR(WriteFileAtomically(Path("proxy/links"), FormatProxiedLinks(links)));
  RETURN_IF_ERROR(WriteFileAtomically(Path("faults/links"), FormatLinkFaults(0, {})));
  return endpoints;
}

absl::Status LocalCluster::StartProxy(absl::Time deadline) {
  std::error_code ec;
  std::filesystem::remove(Path("proxy/applied"), ec);
  ASSIGN_OR_RETURN(pid_t pid,
                   SpawnDetached({kvharness_, "--dir", dir_, "proxy"}, Path("logs/proxy.log")));
  RETURN_IF_ERROR(WriteFileAtomically(PidFile("proxy"), absl::StrCat(pid, "\n")));
  // It writes D/proxy/applied once its ports are bound and faults applied.
  while (!ReadTextFile(Path("proxy/applied")).ok()) {
    if (!RunningPidOf(PidFile("proxy"), "kvharness")) {
      return absl::InternalError(absl::StrCat("the link proxy exited while starting; its log:\n",
                                              TailOfFile(Path("logs/proxy.log"), 10)));
    }
    if (absl::Now() >= deadline) return absl::DeadlineExceededError("link proxy not ready in time");
    absl::SleepFor(absl::Milliseconds(10));
  }
  return absl::OkStatus();
}

absl::Status LocalCluster::StopProxy(absl::Duration grace) {
  if (std::optional<pid_t> pid = RunningPidOf(PidFile("proxy"), "kvharness")) {
    kill(*pid, SIGTERM);
    if (!WaitGone(*pid, absl::Now() + grace)) {
      kill(*pid, SIGKILL);
      WaitGone(*pid, absl::Now() + absl::Seconds(10));
    }
  }
  std::error_code ec;
  std::filesystem::remove(PidFile("proxy"), ec);
  return absl::OkStatus();
}

absl::StatusOr<LinkFaults> LocalCluster::ActiveLinkFaults() const {
  absl::StatusOr<std::string> text = ReadTextFile(Path("faults/links"));
  if (!text.ok()) return LinkFaults();
  ASSIGN_OR_RETURN(auto parsed, ParseLinkFaults(*text));
  return parsed.second;
}

std::optional<NetnsNetwork> LocalCluster::Network() const {
  if (!ReadTextFile(Path("netns")).ok()) return std::nullopt;
  absl::StatusOr<v1::ClusterConfig> config = Config();
  if (!config.ok()) return std::nullopt;
  std::vector<std::string> nodes;
  for (const v1::NodeConfig& n : config->nodes()) nodes.push_back(n.id());
  return NetnsNetwork(dir_, std::move(nodes));
}

absl::Status LocalCluster::PlanNetns(v1::ClusterConfig* config) {
  std::vector<std::string> nodes;
  for (const v1::NodeConfig& n : config->nodes()) nodes.push_back(n.id());
  NetnsNetwork network(dir_, nodes);
  RETURN_IF_ERROR(WriteFileAtomically(Path("netns"), "network namespaces (kvharness --netns)\n"));
  RETURN_IF_ERROR(network.Create());
  for (v1::NodeConfig& n : *config->mutable_nodes()) {
    n.set_address(absl::StrCat(network.AddressOf(n.id()), ":", kNetnsNodePort));
  }
  return WriteFileAtomically(Path("faults/links"), FormatLinkFaults(0, {}));
}

// Link faults of a cluster in network namespaces: iptables rules.
absl::Status LocalCluster::ChangeNetnsFaults(const NetnsNetwork& network,
                                             const std::function<void(LinkFaults*)>& change) {
  uint64_t generation = 0;
  LinkFaults faults;
  if (absl::StatusOr<std::string> text = ReadTextFile(Path("faults/links")); text.ok()) {
    ASSIGN_OR_RETURN(std::tie(generation, faults), ParseLinkFaults(*text));
  }
  change(&faults);
  RETURN_IF_ERROR(network.Apply(faults));
  return WriteFileAtomically(Path("faults/links"), FormatLinkFaults(generation + 1, faults));
}

absl::Status LocalCluster::ChangeLinkFaults(const std::function<void(LinkFaults*)>& change) {
  if (std::optional<NetnsNetwork> network = Network()) return ChangeNetnsFaults(*network, change);
  std::optional<pid_t> proxy = RunningPidOf(PidFile("proxy"), "kvharness");
  if (!proxy) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no link proxy runs in ", dir_, ": link faults need a cluster started by kvharness up"));
  }
  uint64_t generation = 0;
  LinkFaults faults;
  if (absl::StatusOr<std::string> text = ReadTextFile(Path("faults/links")); text.ok()) {
    ASSIGN_OR_RETURN(std::tie(generation, faults), ParseLinkFaults(*text));
  }
  change(&faults);
  ++generation;
  RETURN_IF_ERROR(WriteFileAtomically(Path("faults/links"), FormatLinkFaults(generation, faults)));
  kill(*proxy, SIGHUP);
  const absl::Time deadline = absl::Now() + kApplyTimeout;
  for (;;) {
    uint64_t applied = 0;
    absl::StatusOr<std::string> text = ReadTextFile(Path("proxy/applied"));
    if (text.ok() && absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &applied) &&
        applied >= generation) {
      return absl::OkStatus();
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("the link proxy did not apply the faults within ",
                       absl::FormatDuration(kApplyTimeout), " (see ", Path("logs/proxy.log"), ")"));
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
}

absl::Status LocalCluster::CheckEndpoint(const std::string& endpoint) const {
  if (endpoint == kClientEndpoint || endpoint == "*") return absl::OkStatus();
  return CheckKnown(endpoint);
}

absl::Status LocalCluster::Partition(const std::vector<std::string>& side_a,
                                     const std::vector<std::string>& side_b) {
  if (side_a.empty() || side_b.empty()) {
    return absl::InvalidArgumentError("a partition needs two sides, e.g. n1,n2 / n3");
  }
  for (const std::string& e : side_a) RETURN_IF_ERROR(CheckEndpoint(e));
  for (const std::string& e : side_b) RETURN_IF_ERROR(CheckEndpoint(e));
  for (const std::string& a : side_a) {
    for (const std::string& b : side_b) {
      if (a == b || a == "*" || b == "*") {
        return absl::InvalidArgumentError(
            absl::StrCat("the sides of a partition name distinct nodes (", a, ", ", b, ")"));
      }
    }
  }
  return ChangeLinkFaults([&](LinkFaults* faults) {
    for (const std::string& a : side_a) {
      for (const std::string& b : side_b) {
        (*faults)[{a, b}].drop = true;
        (*faults)[{b, a}].drop = true;
      }
    }
  });
}

absl::Status LocalCluster::Isolate(const std::string& node) {
  RETURN_IF_ERROR(CheckKnown(node));
  ASSIGN_OR_RETURN(v1::ClusterConfig config, Config());
  std::vector<std::string> others;
  for (const v1::NodeConfig& n : config.nodes()) {
    if (n.id() != node) others.push_back(n.id());
  }
  if (others.empty()) return absl::InvalidArgumentError("a cluster of one node has no peers");
  return Partition({node}, others);
}

absl::Status LocalCluster::Drop(const std::string& from, const std::string& to) {
  RETURN_IF_ERROR(CheckEndpoint(from));
  RETURN_IF_ERROR(CheckEndpoint(to));
  return ChangeLinkFaults([&](LinkFaults* faults) { (*faults)[{from, to}].drop = true; });
}

absl::Status LocalCluster::Reset(const std::string& from, const std::string& to) {
  RETURN_IF_ERROR(CheckEndpoint(from));
  RETURN_IF_ERROR(CheckEndpoint(to));
  return ChangeLinkFaults([&](LinkFaults* faults) { (*faults)[{from, to}].reset = true; });
}

absl::Status LocalCluster::Delay(const std::string& from, const std::string& to,
                                 absl::Duration delay, absl::Duration jitter) {
  RETURN_IF_ERROR(CheckEndpoint(from));
  RETURN_IF_ERROR(CheckEndpoint(to));
  return ChangeLinkFaults([&](LinkFaults* faults) {
    LinkFault& f = (*faults)[{from, to}];
    f.delay = delay;
    f.jitter = delay > absl::ZeroDuration() ? jitter : absl::ZeroDuration();
  });
}

absl::Status LocalCluster::ChangeNodeFaults(
    const std::string& node, const std::function<void(v1::SetFaultsRequest*)>& change) {
  RETURN_IF_ERROR(CheckKnown(node));
  const std::string file = Path(absl::StrCat("faults/", node, ".textproto"));
  v1::SetFaultsRequest faults;
  if (absl::StatusOr<std::string> text = ReadTextFile(file); text.ok()) {
    if (!google::protobuf::TextFormat::ParseFromString(*text, &faults)) {
      return absl::DataLossError(absl::StrCat(file, " does not parse"));
    }
  }
  change(&faults);
  std::string text;
  google::protobuf::TextFormat::PrintToString(faults, &text);
  RETURN_IF_ERROR(WriteFileAtomically(file, text));
  // A stopped node gets them when it starts (Restart).
  return RunningPid(node) ? ApplyFaults(node) : absl::OkStatus();
}

absl::Status LocalCluster::DiskFull(const std::string& node, bool full) {
  return ChangeNodeFaults(node, [&](v1::SetFaultsRequest* f) { f->set_disk_full(full); });
}

absl::Status LocalCluster::Skew(const std::string& node, absl::Duration skew) {
  return ChangeNodeFaults(node, [&](v1::SetFaultsRequest* f) {
    f->set_clock_skew_ms(absl::ToInt64Milliseconds(skew));
  });
}

absl::StatusOr<std::map<std::string, v1::SetFaultsRequest>> LocalCluster::NodeFaults() const {
  ASSIGN_OR_RETURN(v1::ClusterConfig config, Config());
  std::map<std::string, v1::SetFaultsRequest> faults;
  for (const v1::NodeConfig& n : config.nodes()) {
    absl::StatusOr<std::string> text =
        ReadTextFile(Path(absl::StrCat("faults/", n.id(), ".textproto")));
    v1::SetFaultsRequest f;
    if (!text.ok() || !google::protobuf::TextFormat::ParseFromString(*text, &f)) continue;
    if (f.disk_full() || f.clock_skew_ms() != 0 || f.delays_size() > 0) faults[n.id()] = f;
  }
  return faults;
}

absl::Status LocalCluster::Heal() {
  ASSIGN_OR_RETURN(v1::ClusterConfig config, Config());
  for (const auto& n : config.nodes()) {
    std::error_code ec;
    std::filesystem::remove(Path(absl::StrCat("faults/", n.id(), ".textproto")), ec);
    if (RunningPid(n.id())) RETURN_IF_ERROR(ApplyFaults(n.id()));
  }
  if (!RunningPidOf(PidFile("proxy"), "kvharness") && !Network()) return absl::OkStatus();
  return ChangeLinkFaults([](LinkFaults* faults) { faults->clear(); });
}

}  // namespace quorumkv
