// The hint store, through EngineReplicaStore::hints(): hints per
// (home, key), their creation time, the in-memory index and its limits.
#include "storage/hint_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "replication/object_codec.h"
#include "replication/ring.h"
#include "storage/engine_replica_store.h"
#include "storage/fault_injection_engine.h"
#include "storage/mem_engine.h"
#include "storage/rocksdb_engine.h"
#include "tests/unit/replication/object_printers.h"
#include "tests/unit/storage/store_support.h"
#include "tests/unit/storage/temp_dir.h"
#include "tests/unit/test_support.h"

namespace quorumkv {
namespace {

using test_support::TempDir;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);

using test_support::OneValue;

std::unique_ptr<EngineReplicaStore> OpenEpochOneStore(Engine* engine) {
  return test_support::OpenStore(
      engine, ReplicaStoreOptions{.node_id = "n1", .new_epoch = [] { return 1u; }});
}

// Merges `object` into the hint `store` keeps for (home, key), as a
// fallback does with a write it takes for `home`.
absl::StatusOr<Object> AddHint(EngineReplicaStore& store, const std::string& home,
                               const std::string& key, const Object& object, absl::Time now = kT0,
                               const HintLimits& limits = {}) {
  return store.hints()->Update(home, key, limits, now,
                               [&](const std::optional<Object>& current) -> absl::StatusOr<Object> {
                                 return current ? Sync(*current, object) : object;
                               });
}

std::optional<Object> ReadHint(EngineReplicaStore& store, const std::string& home,
                               const std::string& key) {
  absl::StatusOr<std::optional<Object>> hint = store.hints()->Read(home, key);
  EXPECT_TRUE(hint.ok()) << hint.status();
  return hint.ok() ? *hint : std::nullopt;
}

std::vector<std::string> Keys(const std::vector<HintInfo>& hints) {
  std::vector<std::string> keys;
  for (const HintInfo& h : hints) keys.push_back(h.key);
  return keys;
}

class HintStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = OpenEpochOneStore(&engine_); }
  void Reopen() {
    store_.reset();
    store_ = OpenEpochOneStore(&engine_);
    ASSERT_NE(store_, nullptr);
  }
  // Size of one stored hint of a 4-byte value.
  uint64_t OneHintBytes() {
    MemEngine engine;
    std::unique_ptr<EngineReplicaStore> store = OpenEpochOneStore(&engine);
    EXPECT_TRUE(AddHint(*store, "n2", "k0", OneValue("a.1", 1, "aaaa")).ok());
    return store->hints()->List("n2", 1).at(0).bytes;
  }

  MemEngine engine_;
  std::unique_ptr<EngineReplicaStore> store_;
};

TEST_F(HintStoreTest, ReadHintReadsBackWhatUpdateHintStored) {
  ASSERT_TRUE(AddHint(*store_, "n2", "k", OneValue("a.1", 1, "v")).ok());
  EXPECT_EQ(ReadHint(*store_, "n2", "k"), OneValue("a.1", 1, "v"));
}

TEST_F(HintStoreTest, ReadHintOfAMissingHintIsNullopt) {
  EXPECT_EQ(ReadHint(*store_, "n2", "k"), std::nullopt);
}

TEST_F(HintStoreTest, UpdateHintMergesIntoTheStoredHint) {
  ASSERT_TRUE(AddHint(*store_, "n2", "k", OneValue("a.1", 1, "x")).ok());
  const absl::StatusOr<Object> merged = AddHint(*store_, "n2", "k", OneValue("b.1", 1, "y"));
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ(merged->siblings.size(), 2u);
  EXPECT_EQ(ReadHint(*store_, "n2", "k"), *merged);
}

TEST_F(HintStoreTest, CreatedTimeIsTheFirstWritesAndSurvivesMerges) {
  ASSERT_TRUE(AddHint(*store_, "n2", "k", OneValue("a.1", 1, "x"), kT0).ok());
  ASSERT_TRUE(AddHint(*store_, "n2", "k", OneValue("a.1", 2, "y"), kT0 + absl::Hours(1)).ok());
  ASSERT_EQ(store_->hints()->List("n2", 10).size(), 1u);
  EXPECT_EQ(store_->hints()->List("n2", 10)[0].created, kT0);
  EXPECT_EQ(store_->hints()->Summarize().at(0).oldest, kT0);
}

// The index keeps `now` to the nanosecond for a new hint, but the stored
// hint keeps milliseconds, which every later merge (and reopen) takes.
TEST_F(HintStoreTest, CreatedTimeIsTheSameBeforeAndAfterAMerge) {
  const absl::Time created = kT0 + absl::Microseconds(1500);
  ASSERT_TRUE(AddHint(*store_, "n2", "k", OneValue("a.1", 1, "x"), created).ok());
  const absl::Time before = store_->hints()->List("n2", 1).at(0).created;
  ASSERT_TRUE(AddHint(*store_, "n2", "k", OneValue("a.1", 2, "y"), created + absl::Hours(1)).ok());
  EXPECT_EQ(store_->hints()->List("n2", 1).at(0).created, before);
}

TEST_F(HintStoreTest, HintsOfDifferentHomesAndKeysAreSeparate) {
  ASSERT_TRUE(AddHint(*store_, "n2", "k", OneValue("a.1", 1, "n2-k")).ok());
  ASSERT_TRUE(AddHint(*store_, "n3", "k", OneValue("a.1", 1, "n3-k")).ok());
  ASSERT_TRUE(AddHint(*store_, "n2", "k2", OneValue("a.1", 1, "n2-k2")).ok());
  EXPECT_EQ(ReadHint(*store_, "n2", "k"), OneValue("a.1", 1, "n2-k"));
  EXPECT_EQ(ReadHint(*store_, "n3", "k"), OneValue("a.1", 1, "n3-k"));
  EXPECT_EQ(ReadHint(*store_, "n2", "k2"), OneValue("a.1", 1, "n2-k2"));
  EXPECT_EQ(ReadHint(*store_, "n3", "k2"), std::nullopt);
  EXPECT_EQ(store_->Read("k").value(), std::nullopt) << "a hint is not a replica";
}

TEST_F(HintStoreTest, ReadHintsOfKeyReturnsTheHintOfEveryHomeInHomeOrder) {
  ASSERT_TRUE(AddHint(*store_, "n3", "k", OneValue("a.1", 1, "n3-k")).ok());
  ASSERT_TRUE(AddHint(*store_, "n2", "k", OneValue("a.1", 2, "n2-k")).ok());
  ASSERT_TRUE(AddHint(*store_, "n2", "k2", OneValue("a.1", 3, "n2-k2")).ok());
  const auto hints = store_->hints()->ReadAllHomes("k");
  ASSERT_TRUE(hints.ok()) << hints.status();
  ASSERT_EQ(hints->size(), 2u);
  EXPECT_EQ((*hints)[0].first, "n2");
  EXPECT_EQ((*hints)[0].second, OneValue("a.1", 2, "n2-k"));
  EXPECT_EQ((*hints)[1].first, "n3");
  EXPECT_EQ((*hints)[1].second, OneValue("a.1", 1, "n3-k"));
  EXPECT_THAT(store_->hints()->ReadAllHomes("absent").value(), IsEmpty());
}

TEST_F(HintStoreTest, ListHintsReturnsOldestFirstUpToTheLimit) {
  ASSERT_TRUE(AddHint(*store_, "n2", "c", OneValue("a.1", 1, "v"), kT0).ok());
  ASSERT_TRUE(AddHint(*store_, "n2", "a", OneValue("a.1", 1, "v"), kT0 + absl::Seconds(1)).ok());
  ASSERT_TRUE(AddHint(*store_, "n2", "b", OneValue("a.1", 1, "v"), kT0 + absl::Seconds(2)).ok());
  ASSERT_TRUE(AddHint(*store_, "n3", "d", OneValue("a.1", 1, "v"), kT0 - absl::Seconds(1)).ok());
  const std::vector<HintInfo> hints = store_->hints()->List("n2", 2);
  EXPECT_THAT(Keys(hints), ElementsAre("c", "a"));
  EXPECT_EQ(hints[0].home, "n2");
  EXPECT_EQ(hints[0].created, kT0);
  EXPECT_GT(hints[0].bytes, 0u);
  EXPECT_THAT(Keys(store_->hints()->List("n2", 10)), ElementsAre("c", "a", "b"));
}

TEST_F(HintStoreTest, ListHintsOfAHomeWithoutHintsIsEmpty) {
  EXPECT_THAT(store_->hints()->List("n2", 10), IsEmpty());
  EXPECT_THAT(store_->hints()->Summarize(), IsEmpty());
}

TEST_F(HintStoreTest, SummarizeCountsBytesAndOldestPerHome) {
  ASSERT_TRUE(AddHint(*store_, "n2", "a", OneValue("a.1", 1, "v"), kT0 + absl::Seconds(1)).ok());
  ASSERT_TRUE(AddHint(*store_, "n2", "b", OneValue("a.1", 1, "vv"), kT0).ok());
  ASSERT_TRUE(AddHint(*store_, "n3", "a", OneValue("a.1", 1, "v"), kT0 + absl::Seconds(5)).ok());
  const std::vector<HintSummary> summary = store_->hints()->Summarize();
  ASSERT_EQ(summary.size(), 2u);
  const std::vector<HintInfo> n2 = store_->hints()->List("n2", 10);
  EXPECT_EQ(summary[0].home, "n2");
  EXPECT_EQ(summary[0].count, 2u);
  EXPECT_EQ(summary[0].bytes, n2[0].bytes + n2[1].bytes);
  EXPECT_EQ(summary[0].oldest, kT0);
  EXPECT_EQ(summary[1].home, "n3");
  EXPECT_EQ(summary[1].count, 1u);
  EXPECT_EQ(summary[1].oldest, kT0 + absl::Seconds(5));
}

TEST_F(HintStoreTest, MaxCountRefusesANewHintAndStoresNothing) {
  const HintLimits limits{.max_count = 2};
  ASSERT_TRUE(AddHint(*store_, "n2", "a", OneValue("a.1", 1, "v"), kT0, limits).ok());
  ASSERT_TRUE(AddHint(*store_, "n2", "b", OneValue("a.1", 1, "v"), kT0, limits).ok());
  EXPECT_EQ(AddHint(*store_, "n2", "c", OneValue("a.1", 1, "v"), kT0, limits).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ReadHint(*store_, "n2", "c"), std::nullopt);
  EXPECT_EQ(store_->hints()->Summarize().at(0).count, 2u);
}

TEST_F(HintStoreTest, MaxCountAcceptsAnUpdateOfAnExistingHint) {
  const HintLimits limits{.max_count = 1};
  ASSERT_TRUE(AddHint(*store_, "n2", "a", OneValue("a.1", 1, "v"), kT0, limits).ok());
  EXPECT_TRUE(AddHint(*store_, "n2", "a", OneValue("a.1", 2, "w"), kT0, limits).ok());
  EXPECT_EQ(ReadHint(*store_, "n2", "a"), OneValue("a.1", 2, "w"));
}

TEST_F(HintStoreTest, LimitsArePerHome) {
  const HintLimits limits{.max_count = 1};
  ASSERT_TRUE(AddHint(*store_, "n2", "a", OneValue("a.1", 1, "v"), kT0, limits).ok());
  EXPECT_TRUE(AddHint(*store_, "n3", "b", OneValue("a.1", 1, "v"), kT0, limits).ok());
}

TEST_F(HintStoreTest, MaxBytesRefusesANewHintAndStoresNothing) {
  const HintLimits limits{.max_bytes = 2 * OneHintBytes()};
  ASSERT_TRUE(AddHint(*store_, "n2", "a", OneValue("a.1", 1, "aaaa"), kT0, limits).ok());
  ASSERT_TRUE(AddHint(*store_, "n2", "b", OneValue("a.1", 1, "aaaa"), kT0, limits).ok());
  EXPECT_EQ(AddHint(*store_, "n2", "c", OneValue("a.1", 1, "a"), kT0, limits).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ReadHint(*store_, "n2", "c"), std::nullopt);
  EXPECT_EQ(store_->hints()->Summarize().at(0).bytes, 2 * OneHintBytes());
}

TEST_F(HintStoreTest, AnUpdateWithinMaxBytesIsAcceptedWhenTheHomeIsFull) {
  const HintLimits limits{.max_bytes = 2 * OneHintBytes()};
  ASSERT_TRUE(AddHint(*store_, "n2", "a", OneValue("a.1", 1, "aaaa"), kT0, limits).ok());
  ASSERT_TRUE(AddHint(*store_, "n2", "b", OneValue("a.1", 1, "aaaa"), kT0, limits).ok());
  // The newer write replaces the old value with one of the same size.
  EXPECT_TRUE(AddHint(*store_, "n2", "a", OneValue("a.1", 2, "bbbb"), kT0, limits).ok());
  EXPECT_EQ(ReadHint(*store_, "n2", "a"), OneValue("a.1", 2, "bbbb"));
}

TEST_F(HintStoreTest, AnUpdatePastMaxBytesIsRefusedAndKeepsTheHint) {
  const HintLimits limits{.max_bytes = 2 * OneHintBytes()};
  ASSERT_TRUE(AddHint(*store_, "n2", "a", OneValue("a.1", 1, "aaaa"), kT0, limits).ok());
  ASSERT_TRUE(AddHint(*store_, "n2", "b", OneValue("a.1", 1, "aaaa"), kT0, limits).ok());
  EXPECT_EQ(AddHint(*store_, "n2", "a", OneValue("b.1", 1, "sibling"), kT0, limits).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ReadHint(*store_, "n2", "a"), OneValue("a.1", 1, "aaaa"));
}

// Forwards to `base`; runs `during_next_write` inside the next Write, before
// it reaches `base`: as another thread may run between a hint's limit
// check and its write.
class InterleavingEngine : public FaultInjectionEngine {
 public:
  using FaultInjectionEngine::FaultInjectionEngine;
  absl::Status Write(const WriteBatch& batch, const WriteOptions& options) override {
    if (std::function<void()> run = std::exchange(during_next_write, nullptr)) run();
    return FaultInjectionEngine::Write(batch, options);
  }
  std::function<void()> during_next_write;
};

TEST(HintStoreConcurrencyTest, ConcurrentNewHintsCannotPassMaxCount) {
  MemEngine base;
  InterleavingEngine engine(&base);
  std::unique_ptr<EngineReplicaStore> store = OpenEpochOneStore(&engine);
  const HintLimits limits{.max_count = 1};
  // Two keys under different lock stripes, so neither write waits.
  std::string other = "b";
  while (StableHash(HintKey("n2", other)) % 64 == StableHash(HintKey("n2", "a")) % 64) {
    other += "b";
  }
  absl::Status other_status;
  engine.during_next_write = [&] {
    other_status = AddHint(*store, "n2", other, OneValue("a.1", 1, "v"), kT0, limits).status();
  };
  const absl::Status status =
      AddHint(*store, "n2", "a", OneValue("a.1", 1, "v"), kT0, limits).status();
  EXPECT_FALSE(status.ok() && other_status.ok()) << "both new hints were accepted";
  EXPECT_LE(store->hints()->Summarize().at(0).count, 1u);
}

TEST_F(HintStoreTest, AHintThatCouldNotBeReadBackIsRefused) {
  Object huge;
  for (uint64_t i = 1; i <= kMaxDecodedSiblings + 1; ++i) {
    huge.context.Add(Dot{"a.1", i});
    huge.siblings.push_back(Sibling{.dot = Dot{"a.1", i}, .tombstone = true});
  }
  EXPECT_EQ(AddHint(*store_, "n2", "k", huge).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadHint(*store_, "n2", "k"), std::nullopt);
  EXPECT_THAT(store_->hints()->Summarize(), IsEmpty());
}

TEST(HintStoreFaultTest, AFailedEngineWriteStoresAndIndexesNothing) {
  MemEngine base;
  FaultInjectionEngine engine(&base);
  std::unique_ptr<EngineReplicaStore> store = OpenEpochOneStore(&engine);
  engine.SetWriteError(absl::ResourceExhaustedError("disk full"));
  EXPECT_FALSE(AddHint(*store, "n2", "k", OneValue("a.1", 1, "v")).ok());
  EXPECT_EQ(ReadHint(*store, "n2", "k"), std::nullopt);
  EXPECT_THAT(store->hints()->Summarize(), IsEmpty());
}

TEST_F(HintStoreTest, DeleteIfUnchangedDeletesAnEqualHint) {
  ASSERT_TRUE(AddHint(*store_, "n2", "k", OneValue("a.1", 1, "v")).ok());
  const absl::StatusOr<bool> deleted =
      store_->hints()->DeleteIfUnchanged("n2", "k", OneValue("a.1", 1, "v"));
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_TRUE(*deleted);
  EXPECT_EQ(ReadHint(*store_, "n2", "k"), std::nullopt);
  EXPECT_THAT(store_->hints()->List("n2", 10), IsEmpty());
  EXPECT_THAT(store_->hints()->Summarize(), IsEmpty());
}

TEST_F(HintStoreTest, DeleteIfUnchangedKeepsAChangedHint) {
  ASSERT_TRUE(AddHint(*store_, "n2", "k", OneValue("a.1", 1, "v")).ok());
  ASSERT_TRUE(AddHint(*store_, "n2", "k", OneValue("b.1", 1, "newer")).ok());
  const absl::StatusOr<bool> deleted =
      store_->hints()->DeleteIfUnchanged("n2", "k", OneValue("a.1", 1, "v"));
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_FALSE(*deleted);
  ASSERT_TRUE(ReadHint(*store_, "n2", "k").has_value());
  EXPECT_EQ(ReadHint(*store_, "n2", "k")->siblings.size(), 2u);
  EXPECT_EQ(store_->hints()->Summarize().at(0).count, 1u);
}

TEST_F(HintStoreTest, DeleteIfUnchangedOfAMissingHintIsFalse) {
  const absl::StatusOr<bool> deleted =
      store_->hints()->DeleteIfUnchanged("n2", "k", OneValue("a.1", 1, "v"));
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_FALSE(*deleted);
}

TEST_F(HintStoreTest, DropExpiredDeletesItCountsItAndMarksItsPartition) {
  ASSERT_TRUE(AddHint(*store_, "n2", "k", OneValue("a.1", 1, "v"), kT0).ok());
  ASSERT_TRUE(AddHint(*store_, "n2", "k2", OneValue("a.1", 1, "v"), kT0).ok());
  const absl::StatusOr<bool> dropped =
      store_->hints()->DropExpired("n2", "k", kT0 + absl::Seconds(1), 7);
  ASSERT_TRUE(dropped.ok()) << dropped.status();
  EXPECT_TRUE(*dropped);
  EXPECT_EQ(ReadHint(*store_, "n2", "k"), std::nullopt);
  EXPECT_THAT(Keys(store_->hints()->List("n2", 10)), ElementsAre("k2"));
  EXPECT_EQ(store_->hints()->Summarize().at(0).expired, 1u);
  EXPECT_THAT(store_->PartitionsMarkedForRepair().value(), ElementsAre(7u));
}

TEST_F(HintStoreTest, DropExpiredKeepsAHintWrittenSinceTheCutoff) {
  ASSERT_TRUE(AddHint(*store_, "n2", "k", OneValue("a.1", 1, "v"), kT0).ok());
  ASSERT_TRUE(AddHint(*store_, "n2", "k", OneValue("a.1", 2, "w"), kT0 + absl::Seconds(5)).ok());
  const absl::StatusOr<bool> dropped =
      store_->hints()->DropExpired("n2", "k", kT0 + absl::Seconds(1), 7);
  ASSERT_TRUE(dropped.ok()) << dropped.status();
  EXPECT_FALSE(*dropped);
  EXPECT_TRUE(ReadHint(*store_, "n2", "k").has_value());
  EXPECT_EQ(store_->hints()->Summarize().at(0).expired, 0u);
  EXPECT_THAT(store_->PartitionsMarkedForRepair().value(), IsEmpty());
}

TEST_F(HintStoreTest, ListWrittenBeforeOrdersByNewestWriteAndStopsAtTheCutoff) {
  ASSERT_TRUE(AddHint(*store_, "n2", "a", OneValue("a.1", 1, "v"), kT0).ok());
  ASSERT_TRUE(AddHint(*store_, "n2", "b", OneValue("a.1", 1, "v"), kT0 + absl::Seconds(1)).ok());
  ASSERT_TRUE(AddHint(*store_, "n2", "a", OneValue("a.1", 2, "w"), kT0 + absl::Seconds(3)).ok());
  EXPECT_THAT(Keys(store_->hints()->ListWrittenBefore("n2", kT0 + absl::Seconds(2), 10)),
              ElementsAre("b"));
  EXPECT_THAT(Keys(store_->hints()->ListWrittenBefore("n2", kT0 + absl::Seconds(4), 10)),
              ElementsAre("b", "a"));
  EXPECT_EQ(store_->hints()->Summarize().at(0).stalest, kT0 + absl::Seconds(1));
  EXPECT_EQ(store_->hints()->Summarize().at(0).oldest, kT0);
}

TEST_F(HintStoreTest, TheCountOfExpiredHintsSurvivesReopenWithNoHintLeft) {
  ASSERT_TRUE(AddHint(*store_, "n2", "k", OneValue("a.1", 1, "v"), kT0).ok());
  ASSERT_TRUE(store_->hints()->DropExpired("n2", "k", kT0 + absl::Seconds(1), 7).value());
  Reopen();
  const std::vector<HintSummary> summary = store_->hints()->Summarize();
  ASSERT_EQ(summary.size(), 1u);
  EXPECT_EQ(summary[0].home, "n2");
  EXPECT_EQ(summary[0].count, 0u);
  EXPECT_EQ(summary[0].expired, 1u);
}

TEST_F(HintStoreTest, NewestWriteTimeSurvivesReopen) {
  ASSERT_TRUE(AddHint(*store_, "n2", "k", OneValue("a.1", 1, "v"), kT0).ok());
  ASSERT_TRUE(AddHint(*store_, "n2", "k", OneValue("a.1", 2, "w"), kT0 + absl::Hours(1)).ok());
  Reopen();
  const std::vector<HintInfo> hints = store_->hints()->List("n2", 1);
  ASSERT_EQ(hints.size(), 1u);
  EXPECT_EQ(hints[0].created, kT0);
  EXPECT_EQ(hints[0].newest_write, kT0 + absl::Hours(1));
}

TEST_F(HintStoreTest, IndexIsRebuiltWhenTheStoreIsReopened) {
  ASSERT_TRUE(AddHint(*store_, "n2", "b", OneValue("a.1", 1, "v"), kT0 + absl::Seconds(1)).ok());
  ASSERT_TRUE(AddHint(*store_, "n2", "a", OneValue("a.1", 1, "vv"), kT0 + absl::Seconds(2)).ok());
  ASSERT_TRUE(AddHint(*store_, "n3", std::string("z\0z", 3), OneValue("a.1", 1, "v"), kT0).ok());
  const std::vector<HintSummary> summary = store_->hints()->Summarize();
  Reopen();
  const std::vector<HintInfo> n2 = store_->hints()->List("n2", 10);
  EXPECT_THAT(Keys(n2), ElementsAre("b", "a"));
  EXPECT_EQ(n2[0].created, kT0 + absl::Seconds(1));
  EXPECT_THAT(Keys(store_->hints()->List("n3", 10)), ElementsAre(std::string("z\0z", 3)));
  ASSERT_EQ(store_->hints()->Summarize().size(), 2u);
  EXPECT_EQ(store_->hints()->Summarize()[0].bytes, summary[0].bytes);
  EXPECT_EQ(store_->hints()->Summarize()[1].oldest, summary[1].oldest);
}

TEST_F(HintStoreTest, LimitsCountHintsStoredBeforeAReopen) {
  const HintLimits limits{.max_count = 1};
  ASSERT_TRUE(AddHint(*store_, "n2", "a", OneValue("a.1", 1, "v"), kT0, limits).ok());
  Reopen();
  EXPECT_EQ(AddHint(*store_, "n2", "b", OneValue("a.1", 1, "v"), kT0, limits).status().code(),
            absl::StatusCode::kResourceExhausted);
}

// A restart does not forget that writes were dropped, nor where.
TEST_F(HintStoreTest, TheCountOfExpiredHintsAndTheirMarksSurviveReopen) {
  ASSERT_TRUE(AddHint(*store_, "n2", "k", OneValue("a.1", 1, "v"), kT0).ok());
  ASSERT_TRUE(store_->hints()->DropExpired("n2", "k", kT0 + absl::Seconds(1), 7).value());
  Reopen();
  ASSERT_EQ(store_->hints()->Summarize().size(), 1u);
  EXPECT_EQ(store_->hints()->Summarize()[0].expired, 1u);
  EXPECT_EQ(store_->hints()->Summarize()[0].count, 0u);
  EXPECT_THAT(store_->PartitionsMarkedForRepair().value(), ElementsAre(7u));
}

TEST_F(HintStoreTest, PartitionsMarkedForRepairSurviveReopen) {
  ASSERT_TRUE(store_->MarkPartitionForRepair(7).ok());
  ASSERT_TRUE(store_->MarkPartitionForRepair(3).ok());
  ASSERT_TRUE(store_->MarkPartitionForRepair(7).ok());
  Reopen();
  const absl::StatusOr<std::vector<uint32_t>> marked = store_->PartitionsMarkedForRepair();
  ASSERT_TRUE(marked.ok()) << marked.status();
  EXPECT_THAT(*marked, ElementsAre(3u, 7u));
}

TEST(HintStoreRocksDbTest, HintsAndTheirIndexSurviveReopen) {
  TempDir dir;
  for (int life = 0; life < 2; ++life) {
    absl::StatusOr<std::unique_ptr<RocksDbEngine>> db =
        RocksDbEngine::Open({.path = dir.path() + "/db", .watermark_dir = dir.path() + "/wm"});
    ASSERT_TRUE(db.ok()) << db.status();
    std::unique_ptr<EngineReplicaStore> store = OpenEpochOneStore(db->get());
    ASSERT_NE(store, nullptr);
    if (life == 0) {
      ASSERT_TRUE(AddHint(*store, "n2", "k", OneValue("a.1", 1, "v"), kT0).ok());
      ASSERT_TRUE(AddHint(*store, "n2", "j", OneValue("a.1", 1, "v"), kT0 + absl::Seconds(1)).ok());
      ASSERT_TRUE(store->MarkPartitionForRepair(5).ok());
      continue;
    }
    EXPECT_EQ(ReadHint(*store, "n2", "k"), OneValue("a.1", 1, "v"));
    EXPECT_THAT(Keys(store->hints()->List("n2", 10)), ElementsAre("k", "j"));
    ASSERT_EQ(store->hints()->Summarize().size(), 1u);
    EXPECT_EQ(store->hints()->Summarize()[0].oldest, kT0);
    EXPECT_THAT(store->PartitionsMarkedForRepair().value(), ElementsAre(5u));
  }
}

}  // namespace
}  // namespace quorumkv
