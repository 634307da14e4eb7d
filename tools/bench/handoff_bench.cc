// handoff_bench: how long a node that comes back waits for its hints.
//
// Starts a local cluster (kvharness's LocalCluster), kills one node, writes
// --keys keys that it is a home replica of (W=3, so a fallback keeps a hint
// for each), restarts it, and measures the time from its return until the
// cluster reports no hint pending for it.
#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/kv_client.h"
#include "replication/cluster_config.h"
#include "replication/ring.h"
#include "tools/common/output.h"
#include "tools/kvharness/local_cluster.h"

namespace {

using namespace quorumkv;  // NOLINT: a main file.

std::string KvnodePath() {
  return (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "kvnode").string();
}

uint64_t HintsPendingFor(KvClient& client, const std::string& node) {
  absl::StatusOr<v1::StatusResponse> status = client.Status();
  if (!status.ok()) return UINT64_MAX;
  for (const v1::NodeStatus& n : status->nodes()) {
    if (n.id() == node) return n.hints_pending();
  }
  return UINT64_MAX;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"handoff_bench: time from a node's return until all its hints are delivered"};
  int keys = 10'000;
  int nodes = 5;
  int threads = 16;
  std::string dir = std::filesystem::temp_directory_path() / "qkv-handoff-bench";
  app.add_option("--keys", keys, "hinted keys to write")->capture_default_str();
  app.add_option("--nodes", nodes, "cluster size (N=3)")->capture_default_str();
  app.add_option("--threads", threads, "concurrent writers")->capture_default_str();
  app.add_option("--dir", dir, "cluster directory (wiped)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  LocalCluster cluster(dir, KvnodePath());
  if (absl::Status up = cluster.Up({.nodes = nodes, .replicas = 3}); !up.ok()) {
    std::fprintf(stderr, "up: %s\n", up.ToString().c_str());
    return 1;
  }
  const std::string victim = "n2";
  std::vector<std::string> ids;
  for (int i = 1; i <= nodes; ++i) ids.push_back(absl::StrCat("n", i));
  // The cluster runs with the config's default vnodes and N=3 (Up above).
  const Ring ring = *Ring::Create(ids, kDefaultVnodesPerNode, 3);
  std::vector<std::string> hinted;
  for (int i = 0; static_cast<int>(hinted.size()) < keys; ++i) {
    const std::string key = absl::StrCat("bench/", i);
    if (ring.IsHome(key, victim)) hinted.push_back(key);
  }
  // Clients that never send to the victim.
  std::string endpoints;
  for (const std::string& id : ids) {
    if (id == victim) continue;
    absl::StrAppend(&endpoints, endpoints.empty() ? "" : ",", *cluster.EndpointOf(id));
  }
  auto client =
      *KvClient::Connect({.endpoints = SplitEndpoints(endpoints), .tls = cluster.ClientTls()});

  (void)cluster.Kill(victim);
  std::printf("killed %s; writing %d keys it is a home replica of (W=3, %d writers)...\n",
              victim.c_str(), keys, threads);
  const absl::Time write_start = absl::Now();
  std::atomic<int> next{0}, failed{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < threads; ++t) {
    writers.emplace_back([&] {
      for (int i = next++; i < keys; i = next++) {
        if (!client->Put(hinted[i], std::string(100, 'v'), {.w = 3}).ok()) ++failed;
      }
    });
  }
  for (std::thread& w : writers) w.join();
  const double write_s = absl::ToDoubleSeconds(absl::Now() - write_start);
  std::printf("wrote %d keys in %.1f s (%d failed); hints pending for %s: %llu\n", keys, write_s,
              failed.load(), victim.c_str(),
              static_cast<unsigned long long>(HintsPendingFor(*client, victim)));

  const absl::Time back = absl::Now();
  (void)cluster.Restart(victim);
  const double restart_s = absl::ToDoubleSeconds(absl::Now() - back);
  uint64_t pending = HintsPendingFor(*client, victim);
  while (pending != 0 && absl::Now() - back < absl::Minutes(5)) {
    absl::SleepFor(absl::Milliseconds(50));
    pending = HintsPendingFor(*client, victim);
  }
  const double handoff_s = absl::ToDoubleSeconds(absl::Now() - back);
  std::printf(
      "%s back (ready after %.2f s); all %d hints delivered %.2f s after it returned "
      "(%.0f hints/s); pending now %llu\n",
      victim.c_str(), restart_s, keys, handoff_s, keys / handoff_s,
      static_cast<unsigned long long>(pending));
  (void)cluster.Down();
  return pending == 0 ? 0 : 1;
}
