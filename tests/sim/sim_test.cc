// The simulator itself under test: it replays exactly, a correct store
// passes, and each invariant's checker catches the bug made to break it.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "tests/sim/checker.h"
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

// Seed 584973750063: write #70 (W=3, via n1) was acked by n1, n2 (a hint
// for n3, created 710 ms earlier) and n4 (a hint for n5, 350 ms later); in
// between n2 dropped its hint, created longer ago than tombstone_grace_ms -
// replica_timeout_ms, as failures.md allows. Invariant 7 counted 2 copies
// when the reply arrived and called it a loss.
TEST(SimulatorTest, AHintExpiredBetweenTheAckAndTheReplyIsNoDurabilityViolation) {
  RunResult r = RunSeed({.seed = 584973750063});
  for (const Violation& v : r.violations)
    ADD_FAILURE() << "invariant " << v.invariant << ": " << v.what;
}

// The same at the checker, apart from how a run happens to unfold: a copy
// lost to hint expiry before the reply counts as held when acked, and
// nothing else does.
TEST(CheckerTest, Invariant7CountsCopiesLostToHintExpiryBeforeTheReply) {
  History history;
  Op put;
  put.type = OpType::kPut;
  put.key = "k1";
  put.quorum = 3;
  put.outcome = Outcome::kOk;
  put.dot = Dot{"n1.00000001", 1};
  put.durable_copies = 2;
  put.expired_copies = 1;
  history.ops.push_back(put);
  Recorder recorder;
  CheckInput in{.history = &history, .recorder = &recorder, .replication = 3};
  in.lossy = [](const std::string&) { return false; };
  auto violations_of_7 = [&] {
    CheckResult result = CheckInvariants(in);
    return std::count_if(result.violations.begin(), result.violations.end(),
                         [](const Violation& v) { return v.invariant == 7; });
  };
  EXPECT_EQ(violations_of_7(), 0);
  history.ops[0].expired_copies = 0;
  EXPECT_EQ(violations_of_7(), 1);
}

// Each mutation (mutation.h) is a bug made for one invariant (two for
// drop-sibling): its checker must report it within a few hundred seeds.
struct MutationCase {
  MutationInfo mutation;
  int invariant;
};

std::vector<MutationCase> MutationCases() {
  std::vector<MutationCase> cases;
  for (const MutationInfo& m : Mutations()) {
    for (int invariant : m.invariants) cases.push_back({m, invariant});
  }
  return cases;
}

class MutationTest : public ::testing::TestWithParam<MutationCase> {};

TEST_P(MutationTest, IsCaughtByItsInvariant) {
  constexpr uint64_t kMaxSeeds = 300;
  const MutationInfo& m = GetParam().mutation;
  const int invariant = GetParam().invariant;
  for (uint64_t seed = 1; seed <= kMaxSeeds; ++seed) {
    // Checks of the core's invariants report instead of aborting, so that
    // the simulator's own checkers are what is tested.
    RunResult r = RunSeed({.seed = seed, .mutation = m.mutation, .abort_on_invariant = false});
    for (const Violation& v : r.violations) {
      if (v.invariant != invariant) continue;
      if (invariant == 1 || invariant == 2) {
        EXPECT_FALSE(v.excerpt.empty()) << "a lost write comes with the history that shows it";
      }
      return;
    }
  }
  FAIL() << "invariant " << invariant << " (" << InvariantName(invariant)
         << ") never caught mutation " << m.name << " in " << kMaxSeeds << " seeds";
}

INSTANTIATE_TEST_SUITE_P(EveryInvariant, MutationTest, ::testing::ValuesIn(MutationCases()),
                         [](const ::testing::TestParamInfo<MutationCase>& info) {
                           std::string name = absl::StrCat(info.param.mutation.name, "_caught_by_",
                                                           info.param.invariant);
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

// A reused dot trips the core's own fresh-dot check (invariant.h) before
// any checker: under the simulator that aborts, naming the seed.
TEST(InvariantAbortTest, AReusedDotAbortsTheRunNamingItsSeed) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        for (uint64_t seed = 1; seed <= 300; ++seed) {
          RunSeed({.seed = seed, .mutation = Mutation::kReuseDot});
        }
      },
      "invariant failed at .*object.cc.*issued dot .* is not newer.*kvsim seed [0-9]+ "
      "\\(replay: kvsim --seed");
}

TEST(MutationCoverageTest, EveryInvariantHasAMutationThatTripsIt) {
  std::set<int> covered;
  for (const MutationCase& c : MutationCases()) covered.insert(c.invariant);
  for (int i = 1; i <= kInvariantCount; ++i) {
    EXPECT_EQ(covered.count(i), 1u) << "no mutation proves invariant " << i << " can fail";
  }
}

}  // namespace
}  // namespace quorumkv::sim
