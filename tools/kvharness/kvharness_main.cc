// kvharness: a local quorumkv cluster to run, break and watch. See --help.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "tools/kvharness/demos.h"
#include "tools/kvharness/local_cluster.h"

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
  return 0;
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

  UpOptions up;
  CLI::App* up_cmd = app.add_subcommand(
      "up",
      "start a fresh cluster in the background (wiping earlier data in --dir); returns "
      "once every node is ready and writes the client endpoints to DIR/endpoints");
  up_cmd->add_option("--nodes", up.nodes, "number of nodes")->capture_default_str();
  up_cmd->add_option("--replicas", up.replicas, "replication factor N (R=W=N/2+1)")
      ->capture_default_str();
  up_cmd->add_option("--base-port", up.base_port, "ports P..P+nodes-1 (default: free ports)");
  CLI::App* down_cmd = app.add_subcommand("down", "stop every node (data and logs stay)");
  CLI::App* status_cmd = app.add_subcommand("status", "each node's process and readiness");
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
  std::string link;
  int64_t delay_ms = 0;
  CLI::App* delay_cmd = app.add_subcommand(
      "delay",
      "make the link SRC->DST slow: DST holds requests from SRC (a node, or * for "
      "every node) for MS before handling them; 0 removes it (client links: not yet)");
  delay_cmd->add_option("link", link, "SRC->DST, e.g. n1->n2 or '*->n2'")->required();
  delay_cmd->add_option("ms", delay_ms, "milliseconds")->required()->check(CLI::Range(0, 600000));
  CLI::App* heal_cmd = app.add_subcommand("heal", "remove every injected fault");
  std::string demo;
  CLI::App* demo_cmd = app.add_subcommand(
      "demo", absl::StrCat("run a narrated consistency demo against the cluster: ",
                           absl::StrJoin(DemoNames(), ", ")));
  demo_cmd->add_option("name", demo, "demo name")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  LocalCluster cluster(dir, KvnodePath());
  if (up_cmd->parsed()) {
    absl::Status s = cluster.Up(up);
    if (!s.ok()) {
      cluster.Down().IgnoreError();  // leave nothing half-started
      return Report(s);
    }
    absl::StatusOr<std::string> endpoints = cluster.Endpoints();
    std::printf("cluster up: %d nodes, N=%d, in %s\nendpoints: %s\n", up.nodes, up.replicas,
                dir.c_str(), endpoints.ok() ? endpoints->c_str() : "?");
    return 0;
  }
  if (down_cmd->parsed()) return Report(cluster.Down());
  if (status_cmd->parsed()) return PrintStatus(cluster);
  if (kill_cmd->parsed()) return Report(cluster.Kill(node));
  if (pause_cmd->parsed()) return Report(cluster.Pause(node));
  if (resume_cmd->parsed()) return Report(cluster.Resume(node));
  if (restart_cmd->parsed()) return Report(cluster.Restart(node));
  if (demo_cmd->parsed()) return RunDemo(demo, cluster);
  if (delay_cmd->parsed()) {
    const size_t arrow = link.find("->");
    if (arrow == std::string::npos) {
      std::fprintf(stderr, "kvharness: link '%s' is not SRC->DST\n", link.c_str());
      return 2;
    }
    return Report(
        cluster.Delay(link.substr(0, arrow), link.substr(arrow + 2), absl::Milliseconds(delay_ms)));
  }
  if (heal_cmd->parsed()) return Report(cluster.Heal());
  return 2;
}
