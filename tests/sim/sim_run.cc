#include "tests/sim/sim_run.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "replication/invariant.h"
#include "replication/logging.h"
#include "tests/sim/simulation.h"

namespace quorumkv::sim {
namespace {

// The world of the run on this thread, so that the replication core's log
// lines land in its trace even when seeds run on several threads.
thread_local SimWorld* current_world = nullptr;

Scenario DrawScenario(std::mt19937_64& rng) {
  // A world of its own, only for its random helpers.
  SimWorld draw(rng(), false);
  Scenario s;
  s.nodes = static_cast<int>(draw.Uniform(3, 5));
  s.replication = draw.Chance(0.8) ? 3 : static_cast<int>(draw.Uniform(1, s.nodes));
  s.keys = static_cast<int>(draw.Uniform(2, 7));
  s.clients = static_cast<int>(draw.Uniform(2, 5));
  s.ops_per_client = static_cast<int>(draw.Uniform(10, 40));
  s.faults.drop = draw.Chance(0.5) ? 0.0 : static_cast<double>(draw.Uniform(0, 10)) / 100;
  s.faults.duplicate = draw.Chance(0.5) ? 0.0 : static_cast<double>(draw.Uniform(0, 10)) / 100;
  s.faults.min_delay = absl::Microseconds(static_cast<int64_t>(draw.Uniform(50, 500)));
  s.faults.max_delay =
      s.faults.min_delay + absl::Milliseconds(static_cast<int64_t>(draw.Uniform(0, 30)));
  s.nemesis_interval = absl::Milliseconds(static_cast<int64_t>(draw.Uniform(50, 1000)));
  s.sync_writes = !draw.Chance(0.2);
  if (draw.Chance(0.3)) {
    s.max_hint_age = absl::Milliseconds(static_cast<int64_t>(draw.Uniform(500, 3000)));
  }
  const bool skewed = draw.Chance(0.5);
  for (int i = 0; i < s.nodes; ++i) {
    s.skews.push_back(skewed ? absl::Milliseconds(static_cast<int64_t>(draw.Uniform(0, 600)) - 300)
                             : absl::ZeroDuration());
  }
  s.forged_rate = draw.Chance(0.5) ? 0.05 : 0.0;
  if (draw.Chance(0.5) && s.sync_writes) {
    // Tombstone purge (which needs sync_writes), with a grace short enough
    // to pass within a run; it must exceed max_hint_age + the replica
    // timeout (500 ms).
    if (s.max_hint_age == absl::ZeroDuration()) {
      s.max_hint_age = absl::Milliseconds(static_cast<int64_t>(draw.Uniform(500, 3000)));
    }
    s.tombstone_grace = s.max_hint_age + absl::Milliseconds(500) +
                        absl::Milliseconds(static_cast<int64_t>(draw.Uniform(1, 3000)));
  }
  // Drawn last, so the draws above are those of earlier builds.
  if (draw.Chance(0.3)) {
    s.anti_entropy_interval = absl::Milliseconds(static_cast<int64_t>(draw.Uniform(250, 1000)));
  }
  return s;
}

}  // namespace

std::string DescribeScenario(const Scenario& s) {
  std::vector<std::string> skews;
  for (absl::Duration d : s.skews) {
    if (d != absl::ZeroDuration()) skews.push_back(absl::FormatDuration(d));
  }
  return absl::StrFormat(
      "%d nodes, N=%d, %d keys, %d clients x %d ops, drop %.0f%%, duplicate %.0f%%, delay "
      "%s..%s, a fault every ~%s%s%s%s%s%s, anti-entropy every %s",
      s.nodes, s.replication, s.keys, s.clients, s.ops_per_client, s.faults.drop * 100,
      s.faults.duplicate * 100, absl::FormatDuration(s.faults.min_delay),
      absl::FormatDuration(s.faults.max_delay), absl::FormatDuration(s.nemesis_interval),
      s.sync_writes ? "" : ", sync_writes off",
      s.max_hint_age > absl::ZeroDuration()
          ? absl::StrCat(", max_hint_age ", absl::FormatDuration(s.max_hint_age))
          : "",
      skews.empty() ? "" : absl::StrCat(", clock skews ", absl::StrJoin(skews, "/")),
      s.forged_rate > 0 ? ", a hostile client" : "",
      s.tombstone_grace > absl::ZeroDuration()
          ? absl::StrCat(", tombstones purged after ", absl::FormatDuration(s.tombstone_grace))
          : "",
      absl::FormatDuration(s.anti_entropy_interval));
}

RunResult RunSeed(const RunOptions& options) {
  static const bool sink_installed = [] {
    SetLogSink([](LogLevel, absl::string_view line) {
      if (current_world != nullptr) current_world->Trace(absl::StrCat("log: ", line));
    });
    return true;
  }();
  (void)sink_installed;
  SetInvariantMode(options.abort_on_invariant ? InvariantMode::kAbort : InvariantMode::kReport);
  SetInvariantContext(absl::StrCat("kvsim seed ", options.seed, " (replay: kvsim --seed ",
                                   options.seed, " --trace)"));
  // The scenario comes from a generator of its own, so that drawing it
  // differently never shifts the run's own random choices.
  std::mt19937_64 scenario_rng(options.seed ^ 0x5ce7a210u);
  Simulation simulation(options, DrawScenario(scenario_rng));
  RunResult result = simulation.Run();
  return result;
}

void SetCurrentWorld(SimWorld* world) { current_world = world; }

}  // namespace quorumkv::sim
