// kvbench: YCSB-style workloads against quorumkv and, in the same run, the
// stores a user would compare it with (etcd, Redis), each started on
// loopback by kvbench itself and torn down afterwards.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/text_format.h"
#include "tools/kvbench/report.h"
#include "tools/kvbench/runner.h"
#include "tools/kvbench/target.h"

namespace {

using namespace quorumkv::bench;  // NOLINT: a main file.

std::string BinDir() {
  return std::filesystem::read_symlink("/proc/self/exe").parent_path().string();
}

void OnInterrupt(int) { g_interrupted = true; }

}  // namespace

int main(int argc, char** argv) {
  // As in kvnode: no lock graph on every mutex acquisition in the clients.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  CLI::App app{
      "kvbench: YCSB-style workloads against quorumkv, etcd and Redis, side by side in one run.\n"
      "Each target is started on loopback in its own directory under --dir, loaded with the key\n"
      "space, driven for --duration-s, measured and torn down. Exit 0 if every target ran\n"
      "without errors, 1 if some operation failed or a target could not run, 2 for bad usage."};
  std::string workload_name = "B", targets = "quorumkv,etcd,redis", distribution = "zipfian";
  std::string dir = "/tmp/kvbench", svg, kv_sync = "on", kv_conflict = "lww", redis_durable = "on";
  std::string load = "api";
  RunOptions options;
  double duration_s = 30;
  bool json = false;
  app.add_option("--workload", workload_name,
                 "A (50% read/50% update), B (95/5), C (read), W (update)")
      ->capture_default_str();
  app.add_option(
         "--targets", targets,
         "comma-separated: quorumkv (mutual TLS, as kvharness runs it), etcd, redis, "
         "quorumkv-plaintext (the same cluster without TLS: against quorumkv, what TLS costs), "
         "quorumkv-proxied (every link through "
         "kvharness's fault proxy), quorumkv-repairing (with --load direct: n3 misses 10% "
         "of the keys and repairs them by anti-entropy during the run), quorumkv-missing (with "
         "--load direct: the same cluster with anti-entropy off, its baseline), quorumkv-client "
         "(through the client library, KvClient), quorumkv-session (the same, every worker in "
         "a session: against quorumkv-client, what a session read costs)")
      ->capture_default_str();
  app.add_option("--keys", options.keys, "key space, loaded before the run")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{100'000'000}));
  app.add_option("--distribution", distribution, "zipfian or uniform")
      ->capture_default_str()
      ->check(CLI::IsMember({"zipfian", "uniform"}));
  app.add_option("--theta", options.theta, "zipfian exponent")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 0.999));
  app.add_option("--value-size", options.value_bytes, "bytes per value")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1} << 20));
  app.add_option(
         "--concurrency", options.concurrency,
         "clients, closed loop (quorumkv, etcd: all on one thread polling a completion queue; "
         "redis: a thread each)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  app.add_option("--rate", options.rate,
                 "open loop: target ops/s over all clients (0: closed loop)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 10'000'000.0));
  app.add_option("--duration-s", duration_s, "measured run per target, seconds")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 86400.0));
  app.add_option("--ops", options.max_ops, "stop each target's run after this many ops (0: none)")
      ->capture_default_str();
  app.add_option("--seed", options.seed, "seed of keys and operations")->capture_default_str();
  app.add_option("--kv-sync", kv_sync, "quorumkv: fsync before ack (on) or not (off)")
      ->capture_default_str()
      ->check(CLI::IsMember({"on", "off"}));
  app.add_option("--kv-conflict", kv_conflict,
                 "quorumkv: lww (an update overwrites, as in etcd and Redis) or siblings (an "
                 "update carries the context of the client's last read of the key)")
      ->capture_default_str()
      ->check(CLI::IsMember({"lww", "siblings"}));
  app.add_option("--redis-durable", redis_durable,
                 "redis: appendfsync always + WAIT 1 (on) or appendfsync everysec (off)")
      ->capture_default_str()
      ->check(CLI::IsMember({"on", "off"}));
  app.add_option("--load", load,
                 "api (every target loads the key space through its client API) or direct "
                 "(quorumkv writes its stopped nodes' storage directly, as one put of each key "
                 "would; the others still load through their API)")
      ->capture_default_str()
      ->check(CLI::IsMember({"api", "direct"}));
  std::string kv_config;
  app.add_option("--kv-config", kv_config,
                 "quorumkv: cluster settings as ClusterConfig text (proto/config.proto) over the "
                 "defaults, e.g. 'anti_entropy_keys_per_second: 500'; not nodes or links");
  double repair_missing = -1;
  app.add_option("--repair-missing", repair_missing,
                 "quorumkv only, with --load direct: the last node gets all keys but this "
                 "fraction (0..1), and instead of the workload kvbench measures two anti-entropy "
                 "rounds of that node (kvctl repair --node): the repair, then one with nothing "
                 "to repair")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--dir", dir, "working directory (wiped per target)")->capture_default_str();
  app.add_flag("--json", json, "print the results as JSON on stdout");
  app.add_option("--svg", svg, "also write a latency CDF of every target to this SVG file");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  absl::StatusOr<Workload> workload = ParseWorkload(workload_name);
  if (!workload.ok()) {
    std::fprintf(stderr, "kvbench: %s\n", std::string(workload.status().message()).c_str());
    return 2;
  }
  options.workload = *workload;
  options.zipfian = distribution == "zipfian";
  options.duration = absl::Seconds(duration_s);
  options.progress_on_tty = isatty(fileno(stderr));
  options.direct_load = load == "direct";
  options.measure_repair = repair_missing >= 0;
  if (options.measure_repair && (!options.direct_load || targets != "quorumkv")) {
    std::fprintf(stderr, "kvbench: --repair-missing needs --load direct and --targets quorumkv\n");
    return 2;
  }
  if ((absl::StrContains(targets, "quorumkv-repairing") ||
       absl::StrContains(targets, "quorumkv-missing")) &&
      !options.direct_load) {
    std::fprintf(stderr,
                 "kvbench: targets quorumkv-repairing and quorumkv-missing need --load direct\n");
    return 2;
  }
  TargetOptions target_options{.kv_sync = kv_sync == "on",
                               .kv_lww = kv_conflict == "lww",
                               .redis_durable = redis_durable == "on",
                               .kv_repair_missing = std::max(0.0, repair_missing)};
  if (!google::protobuf::TextFormat::ParseFromString(kv_config, &target_options.kv_config) ||
      target_options.kv_config.nodes_size() > 0 || target_options.kv_config.links_size() > 0) {
    std::fprintf(stderr, "kvbench: --kv-config is not ClusterConfig text without nodes or links\n");
    return 2;
  }
  std::vector<std::unique_ptr<Target>> chosen;
  for (absl::string_view name : absl::StrSplit(targets, ',', absl::SkipEmpty())) {
    absl::StatusOr<std::unique_ptr<Target>> t =
        MakeTarget(std::string(name), target_options, BinDir());
    if (!t.ok()) {
      std::fprintf(stderr, "kvbench: %s\n", std::string(t.status().message()).c_str());
      return 2;
    }
    chosen.push_back(std::move(*t));
  }
  if (chosen.empty()) {
    std::fprintf(stderr, "kvbench: --targets names no target\n");
    return 2;
  }
  signal(SIGINT, OnInterrupt);
  signal(SIGTERM, OnInterrupt);
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  const Environment env{.machine = DescribeMachine(),
                        .fsync_per_second = MeasureFsyncRate(dir, absl::Seconds(1))};
  std::vector<TargetResult> results;
  for (const auto& target : chosen) {
    if (g_interrupted) break;
    results.push_back(RunTarget(*target, options, dir + "/" + target->name()));
  }
  if (json) {
    std::cout << JsonReport(options, env, results).dump(2) << std::endl;
  } else {
    std::cout << TextReport(options, env, results) << std::flush;
  }
  if (!svg.empty()) {
    if (absl::Status s = WriteSvgCdf(results, svg); !s.ok()) {
      std::fprintf(stderr, "kvbench: %s\n", std::string(s.message()).c_str());
      return 1;
    }
  }
  bool clean = !g_interrupted;
  for (const TargetResult& r : results) {
    clean = clean && r.status.ok() && r.read.errors + r.update.errors == 0;
  }
  return clean ? 0 : 1;
}
