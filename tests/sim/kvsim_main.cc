// kvsim: runs the deterministic simulation of quorumkv's replication core
// for many seeds and checks its invariants. See `kvsim --help`.
#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "tests/sim/sim_run.h"

namespace {

using quorumkv::sim::RunOptions;
using quorumkv::sim::RunResult;

void PrintFailure(const RunResult& r) {
  std::printf("FAIL seed %llu: %s\n", static_cast<unsigned long long>(r.seed),
              quorumkv::sim::DescribeScenario(r.scenario).c_str());
  size_t shown = 0;
  for (const auto& v : r.violations) {
    if (++shown > 3) {
      std::printf("  ... and %zu more violations\n", r.violations.size() - 3);
      break;
    }
    std::printf("  invariant %d (%s) violated: %s\n", v.invariant,
                quorumkv::sim::InvariantName(v.invariant), v.what.c_str());
    for (const std::string& line : v.excerpt) std::printf("    %s\n", line.c_str());
  }
  std::printf("  replay: kvsim --seed %llu --trace\n", static_cast<unsigned long long>(r.seed));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "kvsim: the deterministic simulation of quorumkv. Runs the real replication and storage\n"
      "code in one thread over a simulated network (delays, drops, duplicates, partitions,\n"
      "crashes) and checks its invariants; one seed replays one exact run."};
  uint64_t first_seed = 1;
  uint64_t seeds = 1;
  bool trace = false;
  bool broken_merge = false;
  unsigned jobs = std::max(1u, std::thread::hardware_concurrency());
  app.add_option("--seed", first_seed, "first seed")->capture_default_str();
  app.add_option("--seeds", seeds, "number of seeds to run (seed, seed+1, ...)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{100'000'000}))
      ->capture_default_str();
  app.add_option("--jobs", jobs, "threads running seeds in parallel")
      ->check(CLI::Range(1u, 256u))
      ->capture_default_str();
  app.add_flag("--trace", trace, "print the event trace of each seed (use with one seed)");
  app.add_flag("--broken-merge", broken_merge,
               "test only: node n1 drops a sibling from every write, to show the checkers fail");
  CLI11_PARSE(app, argc, argv);

  const absl::Time start = absl::Now();
  std::vector<RunResult> results(seeds);
  std::atomic<uint64_t> next{0};
  std::vector<std::thread> threads;
  for (unsigned j = 0; j < std::min<uint64_t>(jobs, seeds); ++j) {
    threads.emplace_back([&] {
      for (uint64_t i = next++; i < seeds; i = next++) {
        results[i] = quorumkv::sim::RunSeed(
            RunOptions{.seed = first_seed + i, .trace = trace, .broken_merge = broken_merge});
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);

  uint64_t failed = 0, ops = 0, events = 0, faults = 0, sloppy = 0, handed_off = 0,
           handoff_crashes = 0;
  for (const RunResult& r : results) {
    for (const std::string& line : r.trace) std::printf("%s\n", line.c_str());
    ops += r.ops;
    events += r.events;
    faults += r.faults;
    sloppy += r.sloppy_writes;
    handed_off += r.hints_delivered;
    handoff_crashes += r.crashes_during_handoff;
    if (r.violations.empty()) continue;
    ++failed;
    PrintFailure(r);
  }
  std::printf(
      "kvsim: %llu passed, %llu failed (seeds %llu..%llu; %llu ops, %llu sloppy writes, %llu "
      "hints handed off, %llu crashes during handoff, %llu faults, %llu events; %.1f s, %.0f "
      "seeds/s on %u threads)\n",
      static_cast<unsigned long long>(seeds - failed), static_cast<unsigned long long>(failed),
      static_cast<unsigned long long>(first_seed),
      static_cast<unsigned long long>(first_seed + seeds - 1), static_cast<unsigned long long>(ops),
      static_cast<unsigned long long>(sloppy), static_cast<unsigned long long>(handed_off),
      static_cast<unsigned long long>(handoff_crashes), static_cast<unsigned long long>(faults),
      static_cast<unsigned long long>(events), seconds, seeds / std::max(seconds, 1e-9), jobs);
  return failed == 0 ? 0 : 1;
}
