// kvharness: a local quorumkv cluster to run, break and watch. See --help.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/text_format.h"
#include "replication/cluster_config.h"
#include "tools/kvharness/cluster_tls.h"
#include "tools/kvharness/demos.h"
#include "tools/kvharness/local_cluster.h"
#include "tools/kvharness/process.h"
#include "tools/kvharness/proxy_daemon.h"
#include "tools/kvharness/scenario_runner.h"

namespace {

using namespace quorumkv;  // NOLINT: a main file.

// kvnode sits beside kvharness in build/bin.
std::string KvnodePath() {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return (self.parent_path() / "kvnode").string();
}

int Report(const absl::Status& status) {
  if (status.ok()) return 0;
  std::fprintf(stderr, "kvharness: %s\n", std::string(status.message()).c_str());
  return status.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
}

// One line per link fault in place, e.g. "n1->n2  drop".
void PrintLinkFaults(const LinkFaults& faults) {
  bool any = false;
  for (const auto& [link, f] : faults) {
    if (!f.any()) continue;
    std::vector<std::string> what;
    if (f.drop) what.push_back("drop (bytes vanish)");
    if (f.reset) what.push_back("reset (connections refused and reset)");
    if (f.delay > absl::ZeroDuration()) {
      what.push_back(absl::StrCat("delay ", absl::FormatDuration(f.delay),
                                  f.jitter > absl::ZeroDuration()
                                      ? absl::StrCat(" + up to ", absl::FormatDuration(f.jitter))
                                      : ""));
    }
    if (!any) std::printf("LINK FAULTS (bytes from -> to)\n");
    any = true;
    std::printf("%-16s %s\n", absl::StrCat(link.first, "->", link.second).c_str(),
                absl::StrJoin(what, ", ").c_str());
  }
  if (!any) std::printf("no link faults\n");
}

// One line per node with faults inside it, e.g. "n2  disk full".
void PrintNodeFaults(const std::map<std::string, v1::SetFaultsRequest>& faults) {
  if (faults.empty()) return;
  std::printf("NODE FAULTS\n");
  for (const auto& [node, f] : faults) {
    std::vector<std::string> what;
    if (f.disk_full()) what.push_back("disk full (writes fail, reads go on)");
    if (f.clock_skew_ms() != 0) {
      what.push_back(
          absl::StrCat("clock ", f.clock_skew_ms() > 0 ? "+" : "", f.clock_skew_ms(), " ms"));
    }
    for (const v1::LinkDelay& d : f.delays()) {
      what.push_back(absl::StrCat("holds requests from ", d.from(), " ", d.delay_ms(), " ms"));
    }
    std::printf("%-16s %s\n", node.c_str(), absl::StrJoin(what, ", ").c_str());
  }
}

// After a fault command: its error, or every fault now in place.
int ReportFaults(LocalCluster& cluster, const absl::Status& changed) {
  if (!changed.ok()) return Report(changed);
  absl::StatusOr<LinkFaults> faults = cluster.ActiveLinkFaults();
  if (!faults.ok()) return Report(faults.status());
  PrintLinkFaults(*faults);
  absl::StatusOr<std::map<std::string, v1::SetFaultsRequest>> node_faults = cluster.NodeFaults();
  if (!node_faults.ok()) return Report(node_faults.status());
  PrintNodeFaults(*node_faults);
  return 0;
}

int PrintStatus(LocalCluster& cluster) {
  absl::StatusOr<std::vector<NodeState>> nodes = cluster.Status();
  if (!nodes.ok()) return Report(nodes.status());
  std::printf("%-6s %-22s %-8s %-8s %s\n", "NODE", "ADDRESS", "PROCESS", "PID", "READY");
  for (const NodeState& n : *nodes) {
    const char* process = n.process == ProcessState::kRunning  ? "running"
                          : n.process == ProcessState::kPaused ? "paused"
                                                               : "stopped";
    std::printf("%-6s %-22s %-8s %-8s %s\n", n.id.c_str(), n.address.c_str(), process,
                n.pid ? std::to_string(n.pid).c_str() : "-", n.ready ? "yes" : "no");
  }
  std::printf("\n");
  return ReportFaults(cluster, absl::OkStatus());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "kvharness: a local quorumkv cluster on loopback, to run, break and watch.\n"
      "Nodes are named n1..nN; their data, logs and pids live under --dir."};
  app.require_subcommand(1, 1);
  app.fallthrough();
  std::string dir = ".kvharness";
  app.add_option("--dir", dir, "the cluster's directory")->capture_default_str();

  UpOptions up{.proxies = true};
  CLI::App* up_cmd = app.add_subcommand(
      "up",
      "start a fresh cluster in the background (wiping earlier data in --dir); returns "
      "once every node is ready and writes the client endpoints to DIR/endpoints; every link, node "
      "to node and client to node, runs through a proxy per direction");
  up_cmd->add_option("--nodes", up.nodes, "number of nodes")->capture_default_str();
  up_cmd->add_option("--replicas", up.replicas, "replication factor N (R=W=N/2+1)")
      ->capture_default_str();
  up_cmd->add_option("--base-port", up.base_port, "ports P..P+nodes-1 (default: free ports)");
  std::string up_config;
  up_cmd->add_option("--config", up_config,
                     "cluster settings as ClusterConfig text (proto/config.proto), over the "
                     "defaults; e.g. 'anti_entropy_interval_ms: 0 read_repair: READ_REPAIR_OFF'; "
                     "not nodes or links");
  up_cmd->add_flag("--netns", up.netns,
                   "root only: every node in its own network namespace on a bridge (10.213.x.y), "
                   "link faults as iptables rules instead of proxies (no delays)");
  up_cmd->add_flag("--insecure", up.insecure,
                   "plaintext instead of mutual TLS (by default a new CA and certificates go to "
                   "DIR/tls: ca.pem, client.pem and client-key.pem for clients; kvctl finds "
                   "them there)");
  CLI::App* down_cmd =
      app.add_subcommand("down", "stop every node and the link proxy (data and logs stay)");
  CLI::App* status_cmd = app.add_subcommand(
      "status", "each node's process and readiness, and every link fault in place");
  std::string node;
  auto node_cmd = [&](const char* name, const char* help) {
    CLI::App* cmd = app.add_subcommand(name, help);
    cmd->add_option("node", node, "node id, e.g. n2")->required();
    return cmd;
  };
  CLI::App* kill_cmd = node_cmd("kill", "SIGKILL a node");
  CLI::App* pause_cmd = node_cmd("pause", "SIGSTOP a node (it hangs: calls to it time out)");
  CLI::App* resume_cmd = node_cmd("resume", "SIGCONT a paused node");
  CLI::App* restart_cmd = node_cmd("restart",
                                   "start a stopped node (stopping it first if it "
                                   "runs) and wait until it is ready");
  // Link faults: bytes from SRC to DST, on every connection that carries
  // them (tools/kvharness/link_proxy.h). Endpoints: node ids, "client"
  // (every client), "*" (every node).
  std::string link;
  const char* link_help = "SRC->DST: n1->n2, client->n1 (a client's requests), '*->n2'";
  std::string side_a, slash, side_b;
  CLI::App* partition_cmd = app.add_subcommand(
      "partition",
      "cut the cluster in two: every byte between a node of one side and one of the other "
      "vanishes (both ways); 'client' on a side cuts the clients off the other side");
  partition_cmd->add_option("side_a", side_a, "e.g. n1,n2")->required();
  partition_cmd->add_option("slash", slash, "/")->required()->check(CLI::IsMember({"/"}));
  partition_cmd->add_option("side_b", side_b, "e.g. n3")->required();
  CLI::App* isolate_cmd =
      node_cmd("isolate", "partition NODE from every other node (clients still reach it)");
  CLI::App* drop_cmd = app.add_subcommand(
      "drop",
      "blackhole SRC->DST: its bytes vanish, connections stay open, the sender hears "
      "nothing; after heal, connections that lost bytes are reset");
  drop_cmd->add_option("link", link, link_help)->required();
  CLI::App* reset_cmd = app.add_subcommand(
      "reset", "refuse SRC->DST: new connections of the link are reset, open ones too");
  reset_cmd->add_option("link", link, link_help)->required();
  int64_t delay_ms = 0;
  int64_t jitter_ms = 0;
  CLI::App* delay_cmd = app.add_subcommand(
      "delay",
      "make SRC->DST slow: its bytes are held MS (plus up to --jitter MS) before they go "
      "on, in order; 0 removes the delay. '*->n2' makes n2 slow to hear from every node");
  delay_cmd->add_option("link", link, link_help)->required();
  delay_cmd->add_option("ms", delay_ms, "milliseconds")->required()->check(CLI::Range(0, 600000));
  delay_cmd->add_option("--jitter", jitter_ms, "up to this many more milliseconds, uniform")
      ->check(CLI::Range(0, 600000));
  std::string on_off;
  CLI::App* disk_full_cmd = node_cmd(
      "disk-full", "make NODE's disk full (on): its writes fail with a clear error, reads go on");
  disk_full_cmd->add_option("state", on_off, "on or off")
      ->required()
      ->check(CLI::IsMember({"on", "off"}));
  int64_t skew_ms = 0;
  CLI::App* skew_cmd =
      node_cmd("skew", "run NODE's clock MS ahead (negative: behind) of the machine's; 0 ends it");
  skew_cmd->add_option("ms", skew_ms, "milliseconds")
      ->required()
      ->check(CLI::Range(int64_t{-86'400'000}, int64_t{86'400'000}));
  CLI::App* heal_cmd = app.add_subcommand("heal", "remove every injected fault");
  std::string certs_config, certs_out;
  std::vector<std::string> certs_hosts;
  int certs_days = 365;
  CLI::App* certs_cmd = app.add_subcommand(
      "certs",
      "make a new cluster CA and certificates for the nodes of a cluster config and for clients, "
      "as up does in DIR/tls (for a deployment: docs/deploy.md)");
  certs_cmd->add_option("--config", certs_config, "cluster.textproto (ClusterConfig)")->required();
  certs_cmd->add_option("--out", certs_out, "directory to write them to (created)")->required();
  certs_cmd->add_option("--host", certs_hosts,
                        "another name or address every node certificate is valid for (repeat)");
  certs_cmd->add_option("--days", certs_days, "validity")
      ->check(CLI::Range(1, 3650))
      ->capture_default_str();
  CLI::App* proxy_cmd = app.add_subcommand(
      "proxy", "run the cluster's link proxy in the foreground (kvharness up starts it)");
  std::string demo;
  CLI::App* demo_cmd = app.add_subcommand(
      "demo", absl::StrCat("run a narrated consistency demo against the cluster: ",
                           absl::StrJoin(DemoNames(), ", ")));
  bool list_demos = false;
  demo_cmd->add_option("name", demo, "demo name");
  demo_cmd->add_flag("--list", list_demos, "list the demos and what each shows");

  ScenarioRunOptions run;
  CLI::App* run_cmd = app.add_subcommand(
      "run",
      "run a scenario (tests/scenarios/*.textproto): a fresh cluster in --dir (stopping and wiping "
      "any cluster there), a workload while "
      "faults come and go, heal, wait for convergence, check the history; writes DIR/history.jsonl "
      "and DIR/report.html. Exit 0 only if every check holds (1: a check failed, 2: bad scenario)");
  run_cmd->add_option("scenario", run.scenario_path, "scenario file (textproto)")->required();
  run_cmd->add_option("--seed", run.seed, "replay this seed (default: the scenario's, or fresh)");
  run_cmd->add_option("--history", run.history_path, "where to write the history (JSON lines)");
  run_cmd->add_option("--report", run.report_path, "where to write the HTML report");
  run_cmd->add_flag("--keep", run.keep_cluster, "leave the cluster up after the run");
  run_cmd->add_flag("--netns", run.netns,
                    "root only: every node in its own network namespace, link faults as iptables "
                    "rules instead of proxies (no delays)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (proxy_cmd->parsed()) return RunProxyDaemon(dir);
  if (certs_cmd->parsed()) {
    absl::StatusOr<std::string> text = ReadTextFile(certs_config);
    if (!text.ok()) return Report(text.status());
    absl::StatusOr<v1::ClusterConfig> config = ParseClusterConfig(*text);
    if (!config.ok()) return Report(config.status());
    absl::Status written =
        WriteClusterTls(certs_out, *config,
                        {.valid_for = absl::Hours(24) * certs_days, .extra_hosts = certs_hosts});
    if (!written.ok()) return Report(written);
    std::printf(
        "wrote a CA and certificates for %d nodes and clients to %s (keys mode 0600; keep "
        "ca-key.pem off the nodes)\n",
        config->nodes_size(), certs_out.c_str());
    return 0;
  }
  if (run_cmd->parsed()) {
    run.dir = dir;
    run.kvnode = KvnodePath();
    return RunScenario(run);
  }
  LocalCluster cluster(dir, KvnodePath());
  if (up_cmd->parsed()) {
    if (up.netns) up.proxies = false;
    if (!google::protobuf::TextFormat::ParseFromString(up_config, &up.config) ||
        up.config.nodes_size() > 0 || up.config.links_size() > 0) {
      std::fprintf(stderr,
                   "kvharness: --config is not ClusterConfig text without nodes or links: %s\n",
                   up_config.c_str());
      return 2;
    }
    absl::Status s = cluster.Up(up);
    if (!s.ok()) {
      cluster.Down().IgnoreError();  // leave nothing half-started
      return Report(s);
    }
    absl::StatusOr<std::string> endpoints = cluster.Endpoints();
    std::printf(
        "cluster up: %d nodes, N=%d, in %s\nendpoints: %s\n%s\n%s: break them with partition, "
        "isolate, drop, reset%s; see status; heal\n",
        up.nodes, up.replicas, dir.c_str(), endpoints.ok() ? endpoints->c_str() : "?",
        up.insecure
            ? "plaintext (--insecure): anyone who reaches a port can read and write"
            : absl::StrCat("mutual TLS: clients use ", dir, "/tls/{ca,client,client-key}.pem")
                  .c_str(),
        up.netns ? "every node runs in its own network namespace; links break by iptables"
                 : "every link runs through a proxy per direction",
        up.netns ? "" : ", delay");
    return 0;
  }
  if (down_cmd->parsed()) return Report(cluster.Down());
  if (status_cmd->parsed()) return PrintStatus(cluster);
  if (kill_cmd->parsed()) return Report(cluster.Kill(node));
  if (pause_cmd->parsed()) return Report(cluster.Pause(node));
  if (resume_cmd->parsed()) return Report(cluster.Resume(node));
  if (restart_cmd->parsed()) return Report(cluster.Restart(node));
  if (demo_cmd->parsed()) {
    if (list_demos) {
      PrintDemoList();
      return 0;
    }
    if (demo.empty()) {
      std::fprintf(stderr, "kvharness: demo needs a name (kvharness demo --list)\n");
      return 2;
    }
    return RunDemo(demo, cluster);
  }
  if (partition_cmd->parsed()) {
    return ReportFaults(cluster, cluster.Partition(ParseSide(side_a), ParseSide(side_b)));
  }
  if (isolate_cmd->parsed()) return ReportFaults(cluster, cluster.Isolate(node));
  if (drop_cmd->parsed() || reset_cmd->parsed() || delay_cmd->parsed()) {
    absl::StatusOr<std::pair<std::string, std::string>> ends = ParseLink(link);
    if (!ends.ok()) return Report(ends.status());
    const auto& [from, to] = *ends;
    if (drop_cmd->parsed()) return ReportFaults(cluster, cluster.Drop(from, to));
    if (reset_cmd->parsed()) return ReportFaults(cluster, cluster.Reset(from, to));
    return ReportFaults(cluster, cluster.Delay(from, to, absl::Milliseconds(delay_ms),
                                               absl::Milliseconds(jitter_ms)));
  }
  if (disk_full_cmd->parsed()) {
    return ReportFaults(cluster, cluster.DiskFull(node, on_off == "on"));
  }
  if (skew_cmd->parsed()) {
    return ReportFaults(cluster, cluster.Skew(node, absl::Milliseconds(skew_ms)));
  }
  if (heal_cmd->parsed()) return ReportFaults(cluster, cluster.Heal());
  return 2;
}
