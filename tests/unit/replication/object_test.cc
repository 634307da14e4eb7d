// DVV sets: properties checked on states reached by seeded simulations
// (dvv_simulation.h), and table tests of the version vector vocabulary.
#include "replication/object.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "replication/invariant.h"
#include "replication/version_vector.h"
#include "tests/unit/replication/dvv_simulation.h"
#include "tests/unit/test_support.h"

namespace quorumkv {
namespace {

using test_support::DvvSimulation;

constexpr uint64_t kFirstSeed = 1;
constexpr uint64_t kSeeds = 100;
constexpr int kSteps = 100;
constexpr int kChecksPerSeed = 100;

std::string Trace(uint64_t seed) { return absl::StrCat("seed=", seed); }

bool HasDot(const Object& object, const Dot& dot) {
  return std::any_of(object.siblings.begin(), object.siblings.end(),
                     [&](const Sibling& s) { return s.dot == dot; });
}

// Runs `check(sim)` on a finished simulation for every seed.
template <typename Check>
void ForEachRun(bool lww, Check check) {
  for (uint64_t seed = kFirstSeed; seed < kFirstSeed + kSeeds; ++seed) {
    SCOPED_TRACE(Trace(seed));
    DvvSimulation sim(seed, lww);
    sim.Run(kSteps);
    check(sim);
    if (::testing::Test::HasFailure()) return;
  }
}

TEST(ShownSiblingsTest, ShowOneCopyOfAWriteTheSmallestDot) {
  Object object;
  object.context = test_support::Vv({{"n1.a", 5}, {"n2.b", 9}});
  object.siblings = {
      Sibling{.dot = {"n1.a", 4}, .value = "v1", .idempotency_key = "k1"},
      Sibling{.dot = {"n1.a", 5}, .value = "other"},
      Sibling{.dot = {"n2.b", 8}, .value = "also other"},
      Sibling{.dot = {"n2.b", 9}, .value = "v1", .idempotency_key = "k1"},
  };
  const std::vector<const Sibling*> shown = ShownSiblings(object);
  ASSERT_EQ(shown.size(), 3u);
  EXPECT_EQ(shown[0]->dot, (Dot{"n1.a", 4}));
  EXPECT_EQ(shown[1]->value, "other");
  EXPECT_EQ(shown[2]->value, "also other");
  // A key reused for another value names two writes: both shown.
  object.siblings[3].value = "v2";
  EXPECT_EQ(ShownSiblings(object).size(), 4u);
}

TEST(DvvPropertyTest, EveryReachableStateHasSortedSiblingsCoveredByItsContext) {
  ForEachRun(false, [](DvvSimulation& sim) {
    for (const Object& o : sim.pool()) {
      for (size_t i = 0; i < o.siblings.size(); ++i) {
        EXPECT_TRUE(o.context.Covers(o.siblings[i].dot));
        if (i > 0) {
          EXPECT_LT(o.siblings[i - 1].dot, o.siblings[i].dot);
        }
      }
    }
  });
}

TEST(DvvPropertyTest, SyncIsCommutative) {
  ForEachRun(false, [](DvvSimulation& sim) {
    for (int i = 0; i < kChecksPerSeed; ++i) {
      const Object& a = sim.Pick();
      const Object& b = sim.Pick();
      ASSERT_EQ(Sync(a, b), Sync(b, a));
    }
  });
}

TEST(DvvPropertyTest, SyncIsAssociative) {
  ForEachRun(false, [](DvvSimulation& sim) {
    for (int i = 0; i < kChecksPerSeed; ++i) {
      const Object& a = sim.Pick();
      const Object& b = sim.Pick();
      const Object& c = sim.Pick();
      ASSERT_EQ(Sync(Sync(a, b), c), Sync(a, Sync(b, c)))
          << "a=" << ::testing::PrintToString(a) << "\nb=" << ::testing::PrintToString(b)
          << "\nc=" << ::testing::PrintToString(c);
    }
  });
}

TEST(DvvPropertyTest, SyncIsIdempotent) {
  ForEachRun(false, [](DvvSimulation& sim) {
    for (int i = 0; i < kChecksPerSeed; ++i) {
      const Object& a = sim.Pick();
      const Object ab = Sync(a, sim.Pick());
      ASSERT_EQ(Sync(a, a), a);
      ASSERT_EQ(Sync(ab, a), ab);  // merging again what was merged changes nothing
    }
  });
}

// A write is lost exactly when some later writer had seen it: then it was
// replaced. Otherwise it survives as a sibling of the converged state.
TEST(DvvPropertyTest, EveryWriteSurvivesUnlessALaterWriteSawIt) {
  ForEachRun(false, [](DvvSimulation& sim) {
    const Object converged = sim.Converged();
    for (const test_support::WriteRecord& w : sim.writes()) {
      SCOPED_TRACE(absl::StrCat("write ", w.sibling.value, " ", DotToString(w.sibling.dot)));
      const auto it = std::find_if(converged.siblings.begin(), converged.siblings.end(),
                                   [&](const Sibling& s) { return s.dot == w.sibling.dot; });
      if (w.covered_by.empty()) {
        ASSERT_NE(it, converged.siblings.end()) << "a write nobody saw was dropped";
        EXPECT_EQ(*it, w.sibling);
      } else {
        EXPECT_EQ(it, converged.siblings.end()) << "a replaced write came back";
      }
    }
  });
}

TEST(DvvPropertyTest, ConcurrentWritesWithTheSameContextAtDifferentActorsBothSurvive) {
  ForEachRun(false, [](DvvSimulation& sim) {
    const VersionVector context = sim.ClientRead();
    const size_t first = sim.Uniform(0, DvvSimulation::kActors - 1);
    const size_t second = (first + 1) % DvvSimulation::kActors;
    const Dot one = sim.writes()[sim.Write(first, context)].sibling.dot;
    const Dot two = sim.writes()[sim.Write(second, context)].sibling.dot;
    const Object pair = Sync(sim.replica(first), sim.replica(second));
    EXPECT_TRUE(HasDot(pair, one));
    EXPECT_TRUE(HasDot(pair, two));
    EXPECT_TRUE(HasDot(sim.Converged(), one));
    EXPECT_TRUE(HasDot(sim.Converged(), two));
  });
}

TEST(DvvPropertyTest, AWriteReplacesExactlyTheSiblingsItsContextCovers) {
  ForEachRun(false, [](DvvSimulation& sim) {
    const size_t at = sim.Uniform(0, DvvSimulation::kActors - 1);
    const VersionVector context = sim.ClientRead();
    const Object before = sim.replica(at);
    const Dot dot = sim.writes()[sim.Write(at, context)].sibling.dot;
    const Object& after = sim.replica(at);
    for (const Sibling& s : before.siblings) {
      EXPECT_EQ(HasDot(after, s.dot), !context.Covers(s.dot)) << DotToString(s.dot);
    }
    EXPECT_TRUE(HasDot(after, dot));
    EXPECT_TRUE(after.context.Descends(before.context));
    EXPECT_TRUE(after.context.Descends(context));
  });
}

TEST(DvvPropertyTest, ABlindWriteNeverRemovesAnExistingSibling) {
  ForEachRun(false, [](DvvSimulation& sim) {
    const size_t at = sim.Uniform(0, DvvSimulation::kActors - 1);
    const Object before = sim.replica(at);
    sim.Write(at, VersionVector());
    const Object& after = sim.replica(at);
    ASSERT_EQ(after.siblings.size(), before.siblings.size() + 1);
    for (const Sibling& s : before.siblings) EXPECT_TRUE(HasDot(after, s.dot));
  });
}

TEST(DvvPropertyTest, SyncDescendsBothSides) {
  ForEachRun(false, [](DvvSimulation& sim) {
    for (int i = 0; i < kChecksPerSeed; ++i) {
      const Object& a = sim.Pick();
      const Object& b = sim.Pick();
      const Object ab = Sync(a, b);
      ASSERT_TRUE(Descends(ab, a));
      ASSERT_TRUE(Descends(ab, b));
    }
  });
}

auto HlcDot(const Sibling& s) { return std::tie(s.hlc, s.dot); }

TEST(LastWriterWinsTest, KeepsTheSiblingWithTheHighestHlcThenDot) {
  ForEachRun(false, [](DvvSimulation& sim) {
    for (const Object& o : sim.pool()) {
      const Object resolved = SyncLastWriterWins(o, Object());
      EXPECT_EQ(resolved.context, o.context);
      if (o.siblings.empty()) {
        EXPECT_TRUE(resolved.siblings.empty());
        continue;
      }
      ASSERT_EQ(resolved.siblings.size(), 1u);
      for (const Sibling& s : o.siblings) EXPECT_GE(HlcDot(resolved.siblings[0]), HlcDot(s));
    }
  });
}

TEST(LastWriterWinsTest, EqualHlcsAreOrderedByDot) {
  Object o;
  o.context = VersionVector::FromSortedEntries({{"a.1", 1}, {"b.1", 1}});
  o.siblings = {Sibling{.dot = {"a.1", 1}, .hlc = 5, .value = "a"},
                Sibling{.dot = {"b.1", 1}, .hlc = 5, .value = "b"}};
  o = SyncLastWriterWins(o, Object());
  ASSERT_EQ(o.siblings.size(), 1u);
  EXPECT_EQ(o.siblings[0].value, "b");
}

Object SyncLww(const Object& a, const Object& b) { return SyncLastWriterWins(a, b); }

TEST(LastWriterWinsTest, SyncIsCommutative) {
  ForEachRun(true, [](DvvSimulation& sim) {
    for (int i = 0; i < kChecksPerSeed; ++i) {
      const Object& a = sim.Pick();
      const Object& b = sim.Pick();
      ASSERT_EQ(SyncLww(a, b), SyncLww(b, a));
    }
  });
}

TEST(LastWriterWinsTest, SyncIsAssociative) {
  ForEachRun(true, [](DvvSimulation& sim) {
    for (int i = 0; i < kChecksPerSeed; ++i) {
      const Object& a = sim.Pick();
      const Object& b = sim.Pick();
      const Object& c = sim.Pick();
      ASSERT_EQ(SyncLww(SyncLww(a, b), c), SyncLww(a, SyncLww(b, c)))
          << "a=" << ::testing::PrintToString(a) << "\nb=" << ::testing::PrintToString(b)
          << "\nc=" << ::testing::PrintToString(c);
    }
  });
}

TEST(LastWriterWinsTest, SyncIsIdempotent) {
  ForEachRun(true, [](DvvSimulation& sim) {
    for (int i = 0; i < kChecksPerSeed; ++i) {
      const Object& a = sim.Pick();
      const Object ab = SyncLww(a, sim.Pick());
      ASSERT_EQ(SyncLww(a, a), a);
      ASSERT_EQ(SyncLww(ab, a), ab);
    }
  });
}

// x is replaced by z, whose writer read x but whose clock is behind; y is
// concurrent with both. Last-writer-wins orders by timestamp alone, so x (the
// highest) wins in every merge order — z is lost, as documented — and no
// merge leaves the key without a value.
TEST(LastWriterWinsTest, HighestTimestampWinsEvenOverAWriteThatReadIt) {
  const Sibling x{.dot = {"c.1", 1}, .hlc = 300, .value = "x"};
  const Sibling y{.dot = {"b.1", 1}, .hlc = 200, .value = "y"};
  const Sibling z{.dot = {"a.1", 1}, .hlc = 100, .value = "z"};
  const Object at_b = ApplyWriteLastWriterWins(Object(), {}, y);
  Object at_c = ApplyWriteLastWriterWins(Object(), {}, x);
  Object at_a = ApplyWriteLastWriterWins(Object(), at_c.context, z);
  at_a = SyncLww(at_a, at_b);
  at_c = SyncLww(at_c, at_b);
  ASSERT_EQ(at_a.siblings, std::vector<Sibling>{y});
  ASSERT_EQ(at_c.siblings, std::vector<Sibling>{x});
  EXPECT_EQ(SyncLww(at_a, at_c).siblings, std::vector<Sibling>{x});
  EXPECT_EQ(SyncLww(at_c, at_a).siblings, std::vector<Sibling>{x});
}

TEST(LastWriterWinsTest, AWriteKeepsOneSiblingAndEveryDotInTheContext) {
  const Sibling old_value{.dot = {"b.1", 3}, .hlc = 50, .value = "old"};
  const Object local = ApplyWriteLastWriterWins(Object(), {}, old_value);
  const Object next =
      ApplyWriteLastWriterWins(local, {}, Sibling{.dot = {"a.1", 1}, .hlc = 60, .value = "new"});
  ASSERT_EQ(next.siblings.size(), 1u);
  EXPECT_EQ(next.siblings[0].value, "new");
  EXPECT_TRUE(next.context.Covers(old_value.dot));
}

// A stale dot is an invariant failure (invariant.h): these tests see the
// status a release node returns for it instead of the abort.
class CheckFreshDotTest : public ::testing::Test {
 protected:
  void SetUp() override { SetInvariantMode(InvariantMode::kReport); }
  void TearDown() override { SetInvariantMode(saved_); }
  const InvariantMode saved_ = GetInvariantMode();
};

TEST_F(CheckFreshDotTest, AcceptsADotNewerThanLocalAndContext) {
  Object local;
  local.context.Add({"a.1", 4});
  EXPECT_TRUE(CheckFreshDot(local, VersionVector(), {"a.1", 5}).ok());
  EXPECT_TRUE(CheckFreshDot(local, VersionVector(), {"b.1", 1}).ok());
}

TEST_F(CheckFreshDotTest, RejectsADotTheLocalReplicaHasSeen) {
  Object local;
  local.context.Add({"a.1", 4});
  EXPECT_EQ(CheckFreshDot(local, VersionVector(), {"a.1", 4}).code(), absl::StatusCode::kInternal);
  EXPECT_EQ(CheckFreshDot(local, VersionVector(), {"a.1", 2}).code(), absl::StatusCode::kInternal);
}

TEST_F(CheckFreshDotTest, RejectsADotTheWritersContextHasSeen) {
  VersionVector context;
  context.Add({"a.1", 9});
  EXPECT_EQ(CheckFreshDot(Object(), context, {"a.1", 9}).code(), absl::StatusCode::kInternal);
}

TEST_F(CheckFreshDotTest, RejectsCounterZero) {
  EXPECT_EQ(CheckFreshDot(Object(), VersionVector(), {"a.1", 0}).code(),
            absl::StatusCode::kInternal);
}

using test_support::Vv;

TEST(VersionVectorTest, GetOfAMissingActorIsZero) {
  const VersionVector vv = Vv({{"a", 3}, {"c", 1}});
  EXPECT_EQ(vv.Get("a"), 3u);
  EXPECT_EQ(vv.Get("b"), 0u);
  EXPECT_EQ(vv.Get("c"), 1u);
  EXPECT_EQ(vv.Get("d"), 0u);
  EXPECT_EQ(VersionVector().Get("a"), 0u);
}

TEST(VersionVectorTest, AddRaisesButNeverLowersAndKeepsEntriesSorted) {
  VersionVector vv;
  vv.Add({"c", 2});
  vv.Add({"a", 5});
  vv.Add({"b", 1});
  vv.Add({"a", 3});
  vv.Add({"c", 7});
  EXPECT_EQ(vv, Vv({{"a", 5}, {"b", 1}, {"c", 7}}));
}

TEST(VersionVectorTest, AddOfCounterZeroAddsNoEntry) {
  VersionVector vv;
  vv.Add({"a", 0});
  EXPECT_TRUE(vv.empty());
}

TEST(VersionVectorTest, MergeIsThePointwiseMaximum) {
  struct Case {
    VersionVector a, b, want;
  };
  const Case cases[] = {
      {Vv({}), Vv({}), Vv({})},
      {Vv({{"a", 1}}), Vv({}), Vv({{"a", 1}})},
      {Vv({}), Vv({{"b", 2}}), Vv({{"b", 2}})},
      {Vv({{"a", 1}, {"c", 5}}), Vv({{"a", 4}, {"b", 2}}), Vv({{"a", 4}, {"b", 2}, {"c", 5}})},
      {Vv({{"a", 9}}), Vv({{"a", 4}}), Vv({{"a", 9}})},
  };
  for (const Case& c : cases) {
    VersionVector ab = c.a, ba = c.b;
    ab.Merge(c.b);
    ba.Merge(c.a);
    EXPECT_EQ(ab, c.want) << VersionVectorToString(c.a) << " + " << VersionVectorToString(c.b);
    EXPECT_EQ(ba, c.want) << VersionVectorToString(c.b) << " + " << VersionVectorToString(c.a);
  }
}

TEST(VersionVectorTest, DescendsIsPointwiseGreaterOrEqual) {
  struct Case {
    VersionVector a, b;
    bool a_descends_b;
  };
  const Case cases[] = {
      {Vv({}), Vv({}), true},
      {Vv({{"a", 1}}), Vv({}), true},
      {Vv({}), Vv({{"a", 1}}), false},
      {Vv({{"a", 2}, {"b", 1}}), Vv({{"a", 2}}), true},
      {Vv({{"a", 2}}), Vv({{"a", 3}}), false},
      {Vv({{"a", 5}}), Vv({{"b", 1}}), false},  // concurrent
      {Vv({{"a", 1}, {"b", 2}}), Vv({{"a", 2}, {"b", 1}}), false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(c.a.Descends(c.b), c.a_descends_b)
        << VersionVectorToString(c.a) << " descends " << VersionVectorToString(c.b);
  }
}

TEST(VersionVectorTest, CoversDotsUpToTheActorsCounter) {
  const VersionVector vv = Vv({{"a", 3}});
  EXPECT_TRUE(vv.Covers({"a", 1}));
  EXPECT_TRUE(vv.Covers({"a", 3}));
  EXPECT_FALSE(vv.Covers({"a", 4}));
  EXPECT_FALSE(vv.Covers({"b", 1}));
}

TEST(VersionVectorTest, PrintsDotsAndVectors) {
  EXPECT_EQ(DotToString({"n1.5f3a9c2e", 17}), "n1.5f3a9c2e:17");
  EXPECT_EQ(VersionVectorToString(Vv({{"a", 1}, {"b", 2}})), "{a:1, b:2}");
}

Object Written(const Object& local, const VersionVector& context, Dot dot, std::string value) {
  return ApplyWrite(local, context, Sibling{.dot = std::move(dot), .value = std::move(value)});
}

TEST(DescendsObjectTest, Table) {
  const Object empty;
  const Object x = Written(empty, {}, {"a.1", 1}, "x");
  const Object y = Written(empty, {}, {"b.1", 1}, "y");
  const Object x_then_z = Written(x, x.context, {"a.1", 2}, "z");
  const Object both = Sync(x, y);
  struct Case {
    const char* name;
    const Object& newer;
    const Object& older;
    bool want;
  };
  const Case cases[] = {
      {"empty/empty", empty, empty, true},  {"x/empty", x, empty, true},
      {"empty/x", empty, x, false},         {"x/x", x, x, true},
      {"x/y concurrent", x, y, false},      {"y/x concurrent", y, x, false},
      {"replacement/x", x_then_z, x, true}, {"x/replacement", x, x_then_z, false},
      {"merge/x", both, x, true},           {"merge/y", both, y, true},
      {"x/merge", x, both, false},
  };
  for (const Case& c : cases) EXPECT_EQ(Descends(c.newer, c.older), c.want) << c.name;
}

TEST(ObjectTest, CountsLiveSiblingsAndValueBytes) {
  Object o = Written(Object(), {}, {"a.1", 1}, "abc");
  o = ApplyWrite(o, {}, Sibling{.dot = {"b.1", 1}, .tombstone = true});
  o = Written(o, {}, {"c.1", 1}, "de");
  EXPECT_EQ(o.siblings.size(), 3u);
  EXPECT_EQ(LiveSiblingCount(o), 2u);
  EXPECT_EQ(ValueBytes(o), 5u);
}

}  // namespace
}  // namespace quorumkv
