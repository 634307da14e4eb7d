// kvsim: runs the deterministic simulation of quorumkv's replication core
// for many seeds and checks its invariants. See `kvsim --help`.
#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <random>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "tests/sim/sim_run.h"

namespace {

using quorumkv::sim::Coverage;
using quorumkv::sim::Mutation;
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

// A number, or "random": a seed drawn from the machine, printed so that the
// run can be replayed.
bool ParseSeed(const std::string& text, uint64_t* seed) {
  if (text == "random") {
    std::random_device rd;
    *seed = ((static_cast<uint64_t>(rd()) << 32) | rd()) % 1'000'000'000'000ull;
    return true;
  }
  return absl::SimpleAtoi(text, seed);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "kvsim: the deterministic simulation of quorumkv. Runs the real replication and storage\n"
      "code in one thread over a simulated network (delays, drops, duplicates, partitions),\n"
      "with crashes, power losses, lost log tails, wiped disks, skewed clocks, expiring hints,\n"
      "a last-writer-wins namespace and a hostile client, and checks its invariants; one seed\n"
      "replays one exact run."};
  std::string seed_text = "1";
  uint64_t seeds = 1;
  bool trace = false;
  bool require_coverage = false;
  bool no_lock_order_checks = false;
  std::string mutate = "none";
  unsigned jobs = std::max(1u, std::thread::hardware_concurrency());
  app.add_option("--seed", seed_text, "first seed, or \"random\" (printed)")->capture_default_str();
  app.add_option("--seeds", seeds, "number of seeds to run (seed, seed+1, ...)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{100'000'000}))
      ->capture_default_str();
  app.add_option("--jobs", jobs, "threads running seeds in parallel")
      ->check(CLI::Range(1u, 256u))
      ->capture_default_str();
  app.add_flag("--trace", trace, "print the event trace of each seed (use with one seed)");
  std::vector<std::string> names = {"none"};
  for (const auto& m : quorumkv::sim::Mutations()) names.push_back(m.name);
  app.add_option("--mutate", mutate,
                 "test only: run with a deliberate bug, to show that the checkers catch it")
      ->check(CLI::IsMember(names))
      ->capture_default_str();
  app.add_flag("--require-coverage", require_coverage,
               "fail unless every fault kind was injected and every invariant checked");
  app.add_flag("--no-lock-order-checks", no_lock_order_checks,
               "turn off Abseil's mutex deadlock detection (on in this Abseil build: it "
               "fails a run whose locks are taken in an order that could deadlock): about "
               "60% of the time with two seed threads, which contend on its lock graph");
  CLI11_PARSE(app, argc, argv);
  if (no_lock_order_checks) {
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  }
  uint64_t first_seed = 0;
  if (!ParseSeed(seed_text, &first_seed)) {
    std::fprintf(stderr, "kvsim: --seed %s is neither a number nor \"random\"\n",
                 seed_text.c_str());
    return 2;
  }
  const Mutation mutation = *quorumkv::sim::MutationNamed(mutate);
  std::printf("kvsim: base seed %llu (replay one with kvsim --seed S --trace)\n",
              static_cast<unsigned long long>(first_seed));
  std::fflush(stdout);

  const absl::Time start = absl::Now();
  std::vector<RunResult> results(seeds);
  std::atomic<uint64_t> next{0};
  std::vector<std::thread> threads;
  for (unsigned j = 0; j < std::min<uint64_t>(jobs, seeds); ++j) {
    threads.emplace_back([&] {
      for (uint64_t i = next++; i < seeds; i = next++) {
        results[i] = quorumkv::sim::RunSeed(
            RunOptions{.seed = first_seed + i, .trace = trace, .mutation = mutation});
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);

  uint64_t failed = 0, ops = 0, events = 0, sloppy = 0, handed_off = 0, lww_losses = 0,
           destroyed = 0;
  Coverage coverage;
  for (const RunResult& r : results) {
    for (const std::string& line : r.trace) std::printf("%s\n", line.c_str());
    ops += r.ops;
    events += r.events;
    sloppy += r.sloppy_writes;
    handed_off += r.hints_delivered;
    lww_losses += r.lww_losses;
    destroyed += r.destroyed_writes;
    coverage.Add(r.coverage);
    if (r.violations.empty()) continue;
    ++failed;
    PrintFailure(r);
  }
  std::printf("%s\n", coverage.Describe().c_str());
  std::printf(
      "kvsim: %llu passed, %llu failed (seeds %llu..%llu; %llu ops, %llu sloppy writes, %llu "
      "hints handed off, %llu writes lost by last-writer-wins (allowed), %llu writes whose "
      "every copy a fault destroyed, %llu events; %.1f s, %.0f seeds/s on %u threads)\n",
      static_cast<unsigned long long>(seeds - failed), static_cast<unsigned long long>(failed),
      static_cast<unsigned long long>(first_seed),
      static_cast<unsigned long long>(first_seed + seeds - 1), static_cast<unsigned long long>(ops),
      static_cast<unsigned long long>(sloppy), static_cast<unsigned long long>(handed_off),
      static_cast<unsigned long long>(lww_losses), static_cast<unsigned long long>(destroyed),
      static_cast<unsigned long long>(events), seconds, seeds / std::max(seconds, 1e-9), jobs);
  if (require_coverage) {
    const std::vector<std::string> missing = coverage.Missing();
    if (!missing.empty()) {
      std::printf("kvsim: missing coverage: %s\n", absl::StrJoin(missing, "; ").c_str());
      return 1;
    }
  }
  return failed == 0 ? 0 : 1;
}
