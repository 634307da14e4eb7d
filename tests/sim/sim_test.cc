// The simulator itself under test: it replays exactly, and its checkers
// catch a store that loses writes.
#include <gtest/gtest.h>

#include "tests/sim/sim_run.h"

namespace quorumkv::sim {
namespace {

TEST(SimulatorTest, OneSeedReplaysTheSameRunExactly) {
  RunResult first = RunSeed({.seed = 42, .trace = true});
  RunResult second = RunSeed({.seed = 42, .trace = true});
  ASSERT_FALSE(first.trace.empty());
  EXPECT_EQ(first.trace, second.trace);
  EXPECT_EQ(first.events, second.events);
}

TEST(SimulatorTest, DifferentSeedsMakeDifferentRuns) {
  RunResult a = RunSeed({.seed = 1, .trace = true});
  RunResult b = RunSeed({.seed = 2, .trace = true});
  EXPECT_NE(a.trace, b.trace);
}

TEST(SimulatorTest, CorrectStorePassesEveryInvariant) {
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    RunResult r = RunSeed({.seed = seed});
    EXPECT_TRUE(r.violations.empty()) << "seed " << seed << ": " << r.violations[0].what;
    EXPECT_GT(r.ops, 0);
  }
}

TEST(SimulatorTest, StoreThatDropsASiblingIsCaughtLosingWrites) {
  int caught = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    RunResult r = RunSeed({.seed = seed, .broken_merge = true});
    for (const Violation& v : r.violations) {
      if (v.invariant == 1 || v.invariant == 2) {
        EXPECT_FALSE(v.excerpt.empty()) << "a lost write comes with the history that shows it";
        ++caught;
        break;
      }
    }
  }
  EXPECT_GE(caught, 10) << "the checkers should catch most runs of a sibling-dropping store";
}

}  // namespace
}  // namespace quorumkv::sim
