#include "tools/kvharness/scenario_runner.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "tools/kvharness/checker.h"
#include "tools/kvharness/local_cluster.h"
#include "tools/kvharness/nemesis.h"
#include "tools/kvharness/report.h"
#include "tools/kvharness/scenario.h"
#include "tools/kvharness/workload.h"

namespace quorumkv {
namespace {

constexpr int kFinalClient = -1;

uint64_t FreshSeed() {
  uint64_t seed = 0;
  const int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    if (read(fd, &seed, sizeof seed) != sizeof seed) seed = 0;
    close(fd);
  }
  if (seed == 0) seed = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
  return seed % 1'000'000'000 + 1;  // short enough to type back
}

std::string Seconds(int64_t us) { return absl::StrFormat("%7.3f s", us / 1e6); }

// Sleeps until the recorder's clock reaches `us` (a schedule, not a wait
// for a condition).
void SleepUntil(const HistoryRecorder& recorder, int64_t us) {
  const int64_t now = recorder.Now();
  if (us > now) absl::SleepFor(absl::Microseconds(us - now));
}

// Applies the schedule in order, each event at its time (or as soon as the
// one before it is in place: a restart waits for its node).
void RunNemesis(LocalCluster& cluster, const std::vector<v1::NemesisEvent>& schedule,
                int64_t start_us, HistoryRecorder& recorder) {
  for (const v1::NemesisEvent& e : schedule) {
    SleepUntil(recorder, start_us + int64_t{e.at_ms()} * 1000);
    const int64_t at = recorder.Now();
    const absl::Status s = ApplyNemesisCommand(cluster, e.command());
    recorder.Nemesis(e.command(), s.ok() ? "" : std::string(s.message()));
    std::printf("  %s  nemesis: %s%s\n", Seconds(at - start_us).c_str(), e.command().c_str(),
                s.ok() ? "" : absl::StrCat("  FAILED: ", s.message()).c_str());
    std::fflush(stdout);
  }
}

// The client endpoints of the cluster, in node order, and the node ids.
struct Endpoints {
  std::vector<std::string> client;  // D/endpoints, through the proxy
  std::vector<std::string> nodes;
  TlsFiles tls;  // the clients' certificate files (empty: plaintext)
};

absl::StatusOr<Endpoints> ReadEndpoints(LocalCluster& cluster) {
  absl::StatusOr<std::string> text = cluster.Endpoints();
  if (!text.ok()) return text.status();
  absl::StatusOr<v1::ClusterConfig> config = cluster.Config();
  if (!config.ok()) return config.status();
  Endpoints e;
  e.client = absl::StrSplit(*text, ',', absl::SkipEmpty());
  for (const v1::NodeConfig& n : config->nodes()) e.nodes.push_back(n.id());
  e.tls = cluster.ClientTls();
  if (e.client.size() != e.nodes.size()) {
    return absl::InternalError("D/endpoints does not list one endpoint per node");
  }
  return e;
}

void RunWorkload(const v1::Scenario& scenario, const Endpoints& endpoints, uint64_t seed,
                 int64_t start_us, HistoryRecorder& recorder) {
  std::vector<std::thread> threads;
  const int64_t end_us = start_us + int64_t{scenario.duration_ms()} * 1000;
  const size_t nodes = endpoints.nodes.size();
  // The route starting at node `first`: it, then the others in order.
  auto route_from = [&](size_t first) {
    WorkloadClient::Route route{.node = endpoints.nodes[first], .tls = endpoints.tls};
    const size_t count = scenario.workload().one_endpoint() ? 1 : nodes;
    for (size_t i = 0; i < count; ++i)
      route.endpoints.push_back(endpoints.client[(first + i) % nodes]);
    return route;
  };
  for (uint32_t c = 0; c < scenario.workload().clients(); ++c) {
    // Client c asks node c mod nodes first; with any_node, a node at random.
    std::vector<WorkloadClient::Route> routes;
    if (scenario.workload().any_node()) {
      for (size_t n = 0; n < nodes; ++n) routes.push_back(route_from(n));
    } else {
      routes.push_back(route_from(c % nodes));
    }
    threads.emplace_back([&, c, routes] {
      WorkloadClient client(static_cast<int>(c), routes, scenario.workload(), seed, &recorder);
      client.RunUntil(end_us);
    });
  }
  for (std::thread& t : threads) t.join();
}

// Resumes paused nodes, restarts stopped ones, removes every fault.
absl::Status HealEverything(LocalCluster& cluster) {
  absl::StatusOr<std::vector<NodeState>> nodes = cluster.Status();
  if (!nodes.ok()) return nodes.status();
  for (const NodeState& n : *nodes) {
    absl::Status s = n.process == ProcessState::kPaused    ? cluster.Resume(n.id)
                     : n.process == ProcessState::kStopped ? cluster.Restart(n.id)
                                                           : absl::OkStatus();
    if (!s.ok()) return s;
  }
  return cluster.Heal();
}

// "" once every hint is handed off, else what is left.
std::string HintsLeft(KvClient& client) {
  absl::StatusOr<v1::StatusResponse> status = client.Status();
  if (!status.ok()) return absl::StrCat("status: ", status.status().message());
  std::string left;
  for (const v1::NodeStatus& n : status->nodes()) {
    if (n.hints_pending() > 0) {
      absl::StrAppend(&left, n.hints_pending(), " hints for ", n.id(), " not yet handed off; ");
    }
  }
  return left;
}

// One round of final reads of every key at R=N from home replicas only;
// "" if every read succeeded and none had to repair a replica.
std::string FinalReadRound(KvClient& client, const v1::Scenario& scenario,
                           HistoryRecorder& recorder) {
  std::string problems;
  for (const std::string& key : ScenarioKeys(scenario.workload())) {
    const Operation op = RecordedRead(client, recorder, kFinalClient, "any", key,
                                      {.r = scenario.replicas(), .strict = true});
    if (op.outcome != Outcome::kOk) {
      absl::StrAppend(&problems, key, ": ", op.error, "; ");
    } else if (!op.quorum->repaired.empty()) {
      absl::StrAppend(&problems, key, " needed repair; ");
    }
  }
  return problems;
}

// Waits (bounded by the scenario) until hints are drained and a round of
// final reads finds the replicas in agreement.
Convergence Converge(const v1::Scenario& scenario, const Endpoints& endpoints,
                     HistoryRecorder& recorder) {
  Convergence c{.bound_us = int64_t{scenario.convergence_timeout_ms()} * 1000};
  std::unique_ptr<KvClient> client = *KvClient::Connect(
      {.endpoints = endpoints.client, .timeout = absl::Seconds(2), .tls = endpoints.tls});
  const int64_t heal_us = recorder.Now();
  const int64_t deadline = heal_us + c.bound_us;
  int64_t next_progress_us = heal_us + 1'000'000;
  for (int round = 1;; ++round) {
    std::string left = HintsLeft(*client);
    if (!left.empty() && recorder.Now() >= next_progress_us) {
      std::printf("  converging, %.1f s after the heal: %s\n", (recorder.Now() - heal_us) / 1e6,
                  left.c_str());
      std::fflush(stdout);
      next_progress_us += 1'000'000;
    }
    if (left.empty()) left = FinalReadRound(*client, scenario, recorder);
    if (left.empty()) {
      c.reached = true;
      c.took_us = recorder.Now() - heal_us;
      return c;
    }
    if (recorder.Now() >= deadline) {
      c.detail = absl::StrCat("after ", round, " rounds: ", left);
      return c;
    }
    absl::SleepFor(absl::Milliseconds(100));  // a poll interval, bounded by the deadline
  }
}

void PrintChecks(const std::vector<CheckResult>& checks) {
  int passed = 0;
  std::printf("checks:\n");
  for (const CheckResult& c : checks) {
    passed += c.passed;
    std::printf("  %s %-22s %s\n", c.passed ? "PASS" : "FAIL", c.name.c_str(), c.summary.c_str());
    for (const std::string& p : c.problems) std::printf("       - %s\n", p.c_str());
  }
  std::printf("%d passed, %d failed\n", passed, static_cast<int>(checks.size()) - passed);
}

std::string OrDefault(const std::string& path, const std::string& dir, const char* name) {
  return path.empty() ? (std::filesystem::path(dir) / name).string() : path;
}

int Fail(const std::string& what, const absl::Status& s) {
  std::fprintf(stderr, "kvharness run: %s: %s\n", what.c_str(), std::string(s.message()).c_str());
  return 1;
}

}  // namespace

int RunScenario(const ScenarioRunOptions& options) {
  absl::StatusOr<v1::Scenario> scenario = LoadScenario(options.scenario_path);
  if (!scenario.ok()) {
    std::fprintf(stderr, "kvharness run: %s\n", std::string(scenario.status().message()).c_str());
    return 2;
  }
  const uint64_t seed = options.seed       ? options.seed
                        : scenario->seed() ? scenario->seed()
                                           : FreshSeed();
  const std::vector<v1::NemesisEvent> schedule = NemesisSchedule(*scenario, seed);
  std::printf("scenario %s (seed %llu; replay: --seed %llu)\n  %s\n", scenario->name().c_str(),
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed),
              scenario->description().c_str());
  const v1::ScenarioWorkload& w = scenario->workload();
  if (options.netns) std::printf("  --netns: every node in its own network namespace\n");
  std::printf(
      "  %u nodes, N=%u; %u clients on %u keys%s for %u ms, %s quorums\n", scenario->nodes(),
      scenario->replicas(), w.clients(), w.keys(),
      w.namespace_().empty() ? "" : absl::StrCat(" (namespace ", w.namespace_(), ")").c_str(),
      scenario->duration_ms(), w.strict() ? "strict" : "sloppy");

  LocalCluster cluster(options.dir, options.kvnode);
  UpOptions up{.nodes = static_cast<int>(scenario->nodes()),
               .replicas = static_cast<int>(scenario->replicas()),
               .last_writer_wins = scenario->cluster_lww(),
               .proxies = !options.netns,
               .config = scenario->cluster(),
               .netns = options.netns};
  absl::Status started = cluster.Up(up);
  if (absl::IsFailedPrecondition(started)) {  // a cluster of an earlier run still runs here
    std::printf("  stopping the cluster still running in %s first\n", options.dir.c_str());
    if (absl::Status down = cluster.Down(); !down.ok()) return Fail("cluster down", down);
    started = cluster.Up(up);
  }
  if (absl::Status s = started; !s.ok()) {
    cluster.Down().IgnoreError();
    return Fail("cluster up", s);
  }
  absl::StatusOr<Endpoints> endpoints = ReadEndpoints(cluster);
  const std::string history_path = OrDefault(options.history_path, options.dir, "history.jsonl");
  absl::StatusOr<std::unique_ptr<HistoryRecorder>> recorder = HistoryRecorder::Create(history_path);
  if (!endpoints.ok() || !recorder.ok()) {
    cluster.Down().IgnoreError();
    return Fail("setup", endpoints.ok() ? recorder.status() : endpoints.status());
  }
  HistoryRecorder& history = **recorder;

  const int64_t start_us = history.Now();
  std::printf("  %s  workload starts\n", Seconds(0).c_str());
  std::thread nemesis([&] {
    LocalCluster nemesis_cluster(options.dir, options.kvnode);
    RunNemesis(nemesis_cluster, schedule, start_us, history);
  });
  RunWorkload(*scenario, *endpoints, seed, start_us, history);
  nemesis.join();
  std::printf("  %s  workload done; healing\n", Seconds(history.Now() - start_us).c_str());

  absl::Status healed = HealEverything(cluster);
  history.FinalHeal();
  Convergence convergence{.bound_us = int64_t{scenario->convergence_timeout_ms()} * 1000};
  if (healed.ok()) {
    convergence = Converge(*scenario, *endpoints, history);
  } else {
    convergence.detail = absl::StrCat("the heal failed: ", healed.message());
  }

  const History h = history.Snapshot();
  const std::vector<CheckResult> checks =
      CheckHistory(h, {.lww = w.namespace_() == "lww",
                       .convergence = convergence,
                       .min_acked_writes = scenario->min_acked_writes(),
                       .min_ok_reads = scenario->min_ok_reads()});
  PrintChecks(checks);
  const std::string report_path = OrDefault(options.report_path, options.dir, "report.html");
  absl::Status written = WriteReport(report_path, ReportInput{.scenario = *scenario,
                                                              .seed = seed,
                                                              .history = h,
                                                              .checks = checks,
                                                              .nodes = endpoints->nodes});
  std::printf("history: %s\nreport:  %s%s\n", history_path.c_str(), report_path.c_str(),
              written.ok() ? "" : absl::StrCat(" (not written: ", written.message(), ")").c_str());
  if (!options.keep_cluster) cluster.Down().IgnoreError();
  for (const CheckResult& c : checks) {
    if (!c.passed) return 1;
  }
  return written.ok() ? 0 : 1;
}

}  // namespace quorumkv
