// The contracts of ReplicaStore and Hints, met alike by the real stores
// (EngineReplicaStore and its HintStore) and by the FakeStore the tests of
// replication/ run on: what those tests learn from the fake holds for the
// real thing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "replication/merkle_tree.h"
#include "replication/ring.h"
#include "storage/engine_replica_store.h"
#include "storage/fault_injection_engine.h"
#include "storage/mem_engine.h"
#include "tests/unit/replication/fake_store.h"
#include "tests/unit/replication/object_printers.h"
#include "tests/unit/storage/store_support.h"
#include "tests/unit/test_support.h"

namespace quorumkv {
namespace {

using test_support::kStart;
using test_support::OneValue;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// EngineReplicaStore on a memory engine whose writes can be made to fail.
class RealStores {
 public:
  RealStores() : store_(test_support::OpenStore(&disk_)) {}
  ReplicaStore& store() { return *store_; }
  Hints& hints() { return *store_->hints(); }
  void FailWrites(absl::Status error) { disk_.SetWriteError(std::move(error)); }

 private:
  MemEngine engine_;
  FaultInjectionEngine disk_{&engine_};
  std::unique_ptr<EngineReplicaStore> store_;
};

class FakeStores {
 public:
  ReplicaStore& store() { return store_; }
  Hints& hints() { return *store_.hints(); }
  void FailWrites(absl::Status error) { store_.SetWriteError(std::move(error)); }

 private:
  test_support::FakeStore store_{"n1", 1};
};

template <typename Stores>
class StoreContractTest : public ::testing::Test {
 protected:
  ReplicaStore& store() { return stores_.store(); }
  Hints& hints() { return stores_.hints(); }
  void FailWrites(absl::Status error) { stores_.FailWrites(std::move(error)); }

  absl::StatusOr<Object> Put(const std::string& key, const Object& object) {
    return store().Update(key, [&](const auto&) { return absl::StatusOr<Object>(object); });
  }
  // Merges `object` into the hint for (home, key), as a fallback does.
  absl::StatusOr<Object> AddHint(const std::string& home, const std::string& key,
                                 const Object& object, absl::Time now = kStart,
                                 const HintLimits& limits = {}) {
    return hints().Update(home, key, limits, now,
                          [&](const std::optional<Object>& current) -> absl::StatusOr<Object> {
                            return current ? Sync(*current, object) : object;
                          });
  }
  std::vector<std::string> Keys(const std::vector<HintInfo>& listed) {
    std::vector<std::string> keys;
    for (const HintInfo& h : listed) keys.push_back(h.key);
    return keys;
  }

 private:
  Stores stores_;
};

using Implementations = ::testing::Types<RealStores, FakeStores>;
TYPED_TEST_SUITE(StoreContractTest, Implementations);

TYPED_TEST(StoreContractTest, ReadReturnsWhatUpdateStored) {
  EXPECT_EQ(*this->store().Read("k"), std::nullopt);
  ASSERT_TRUE(this->Put("k", OneValue("a.1", 1, "v")).ok());
  EXPECT_EQ(*this->store().Read("k"), OneValue("a.1", 1, "v"));
  EXPECT_TRUE(this->store().HoldsData());
}

TYPED_TEST(StoreContractTest, ForEachObjectVisitsEveryStoredObjectInKeyOrder) {
  ASSERT_TRUE(this->Put("b", OneValue("a.1", 2, "w")).ok());
  ASSERT_TRUE(this->Put("a", OneValue("a.1", 1, "v")).ok());
  std::vector<std::pair<std::string, Object>> seen;
  ASSERT_TRUE(this->store()
                  .ForEachObject([&](absl::string_view key, const Object& object) {
                    seen.emplace_back(std::string(key), object);
                  })
                  .ok());
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, Object>>{{"a", OneValue("a.1", 1, "v")},
                                                               {"b", OneValue("a.1", 2, "w")}}));
}

// Against a brute-force filter of ForEachObject, over several segments and
// hash ranges (the whole space, one ring partition's, a range holding one
// key only).
TYPED_TEST(StoreContractTest, ForEachObjectInSegmentVisitsExactlyThatSegmentsKeysOfTheRange) {
  for (int i = 0; i < 3000; ++i) {
    ASSERT_TRUE(this->Put(absl::StrCat("key", i), OneValue("a.1", i + 1, "v")).ok());
  }
  absl::StatusOr<Ring> ring = Ring::Create({"n1", "n2", "n3"}, 8, 3);
  ASSERT_TRUE(ring.ok());
  const uint64_t one = StableHash("key7");
  const std::vector<std::pair<uint64_t, uint64_t>> ranges = {
      {0, UINT64_MAX}, ring->HashRangeOf(5), ring->HashRangeOf(23), {one, one}};
  for (const std::pair<uint64_t, uint64_t>& range : ranges) {
    const uint64_t first = range.first, last = range.second;  // lambdas capture these
    for (uint32_t segment : {0u, 1u, 517u, MerkleTree::SegmentOf("key7"), 1023u}) {
      std::vector<std::pair<uint64_t, std::string>> expected, seen;
      ASSERT_TRUE(this->store()
                      .ForEachObject([&](absl::string_view key, const Object&) {
                        const uint64_t h = StableHash(key);
                        if (MerkleTree::SegmentOf(key) == segment && h >= first && h <= last) {
                          expected.emplace_back(h, std::string(key));
                        }
                      })
                      .ok());
      std::sort(expected.begin(), expected.end());
      ASSERT_TRUE(this->store()
                      .ForEachObjectInSegment(segment, first, last,
                                              [&](absl::string_view key, const Object& object) {
                                                EXPECT_EQ(*this->store().Read(key), object);
                                                seen.emplace_back(StableHash(key), key);
                                              })
                      .ok());
      EXPECT_EQ(seen, expected) << "segment " << segment << " [" << first << ", " << last << "]";
    }
  }
}

// A tombstone of the write `counter` of actor a.1, at HLC time `hlc`.
Object Deleted(uint64_t counter, uint64_t hlc) {
  Object object;
  object.context.Add(Dot{"a.1", counter});
  object.siblings.push_back(Sibling{.dot = {"a.1", counter}, .hlc = hlc, .tombstone = true});
  return object;
}

TYPED_TEST(StoreContractTest, ForEachTombstoneBeforeVisitsTheDeletedKeysOldestFirst) {
  ASSERT_TRUE(this->Put("late", Deleted(1, 300)).ok());
  ASSERT_TRUE(this->Put("early", Deleted(2, 100)).ok());
  ASSERT_TRUE(this->Put("live", OneValue("a.1", 3, "v")).ok());
  ASSERT_TRUE(this->Put("revived", Deleted(4, 50)).ok());
  ASSERT_TRUE(this->Put("revived", OneValue("a.1", 5, "back")).ok());  // its old entry is stale
  ASSERT_TRUE(this->Put("again", Deleted(6, 60)).ok());
  ASSERT_TRUE(this->Put("again", Deleted(7, 200)).ok());  // deleted again, later
  auto visited = [&](uint64_t before) {
    std::vector<std::string> keys;
    EXPECT_TRUE(this->store()
                    .ForEachTombstoneBefore(before,
                                            [&](absl::string_view key, const Object& object) {
                                              EXPECT_EQ(*this->store().Read(key), object);
                                              keys.emplace_back(key);
                                              return true;
                                            })
                    .ok());
    return keys;
  };
  EXPECT_THAT(visited(1000), ElementsAre("early", "again", "late"));
  EXPECT_THAT(visited(300), ElementsAre("early", "again"));
  EXPECT_THAT(visited(100), IsEmpty());
  std::vector<std::string> first;  // stops when told
  ASSERT_TRUE(this->store()
                  .ForEachTombstoneBefore(1000,
                                          [&](absl::string_view key, const Object&) {
                                            first.emplace_back(key);
                                            return false;
                                          })
                  .ok());
  EXPECT_THAT(first, ElementsAre("early"));
}

TYPED_TEST(StoreContractTest, PurgeRemovesOnlyAnUnchangedTombstoneAndTheKeyCanComeBack) {
  ASSERT_TRUE(this->Put("gone", Deleted(1, 10)).ok());
  ASSERT_TRUE(this->Put("changed", Deleted(2, 10)).ok());
  ASSERT_TRUE(this->Put("live", OneValue("a.1", 3, "v")).ok());
  ASSERT_TRUE(this->Put("changed", Deleted(4, 20)).ok());
  absl::StatusOr<std::vector<bool>> purged =
      this->store().PurgeTombstones({{"gone", Deleted(1, 10)},
                                     {"changed", Deleted(2, 10)},
                                     {"live", OneValue("a.1", 3, "v")},
                                     {"absent", Deleted(5, 10)}});
  ASSERT_TRUE(purged.ok()) << purged.status();
  EXPECT_THAT(*purged, ElementsAre(true, false, false, false));
  EXPECT_EQ(*this->store().Read("gone"), std::nullopt);
  EXPECT_EQ(*this->store().Read("changed"), Deleted(4, 20));
  std::vector<std::string> listed;
  ASSERT_TRUE(this->store()
                  .ForEachObjectInSegment(
                      MerkleTree::SegmentOf("gone"), 0, UINT64_MAX,
                      [&](absl::string_view key, const Object&) { listed.emplace_back(key); })
                  .ok());
  EXPECT_THAT(listed, ::testing::Not(::testing::Contains("gone")));
  // A later write of the key is a first write again, listed and indexed.
  ASSERT_TRUE(this->Put("gone", Deleted(6, 30)).ok());
  std::vector<std::string> deleted;
  ASSERT_TRUE(this->store()
                  .ForEachTombstoneBefore(1000,
                                          [&](absl::string_view key, const Object&) {
                                            deleted.emplace_back(key);
                                            return true;
                                          })
                  .ok());
  EXPECT_THAT(deleted, ElementsAre("changed", "gone"));
}

TYPED_TEST(StoreContractTest, AFailedPurgeRemovesNothing) {
  ASSERT_TRUE(this->Put("gone", Deleted(1, 10)).ok());
  this->FailWrites(absl::UnavailableError("disk"));
  EXPECT_FALSE(this->store().PurgeTombstones({{"gone", Deleted(1, 10)}}).ok());
  this->FailWrites(absl::OkStatus());
  EXPECT_EQ(*this->store().Read("gone"), Deleted(1, 10));
}

TYPED_TEST(StoreContractTest, UpdateBatchRunsEachUpdateOnTheOneBefore) {
  auto refuse = [](const auto&) { return absl::StatusOr<Object>(absl::AbortedError("no")); };
  auto add = [](const std::optional<Object>& current) {
    return absl::StatusOr<Object>(
        OneValue("a.1", current ? current->siblings.at(0).dot.counter + 1 : 1, "v"));
  };
  const std::vector<absl::StatusOr<Object>> results =
      this->store().UpdateBatch({{"a", add}, {"b", refuse}, {"a", add}});
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[1].status(), absl::AbortedError("no"));
  EXPECT_EQ(*this->store().Read("a"), OneValue("a.1", 2, "v"));
  EXPECT_EQ(*this->store().Read("b"), std::nullopt);
}

TYPED_TEST(StoreContractTest, AFailedWriteFailsWhatRestsOnItAndStoresNothing) {
  ASSERT_TRUE(this->Put("same", OneValue("a.1", 1, "v")).ok());
  this->FailWrites(absl::ResourceExhaustedError("disk full"));
  auto same = [](const auto&) { return absl::StatusOr<Object>(OneValue("a.1", 1, "v")); };
  auto write = [](const auto&) { return absl::StatusOr<Object>(OneValue("a.1", 2, "w")); };
  const std::vector<absl::StatusOr<Object>> results =
      this->store().UpdateBatch({{"same", same}, {"new", write}});
  EXPECT_TRUE(results[0].ok()) << "unchanged: nothing to write";
  EXPECT_EQ(results[1].status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(*this->store().Read("new"), std::nullopt);
  EXPECT_EQ(this->AddHint("n2", "k", OneValue("a.1", 1, "v")).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(this->hints().Summarize(), IsEmpty());
}

TYPED_TEST(StoreContractTest, DotsAreTheActorsAndNeverRepeat) {
  const absl::StatusOr<Dot> first = this->store().IssueDot();
  const absl::StatusOr<Dot> second = this->store().IssueDot();
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->actor, this->store().actor());
  EXPECT_LT(first->counter, second->counter);
}

TYPED_TEST(StoreContractTest, RepairMarksIncludeEveryPartition) {
  EXPECT_FALSE(this->store().MarkedForRepair(3));
  ASSERT_TRUE(this->store().MarkPartitionForRepair(3).ok());
  EXPECT_TRUE(this->store().MarkedForRepair(3));
  EXPECT_FALSE(this->store().MarkedForRepair(4));
  ASSERT_TRUE(this->store().MarkPartitionForRepair(kEveryPartition).ok());
  EXPECT_TRUE(this->store().MarkedForRepair(4));
  EXPECT_THAT(this->store().PartitionsMarkedForRepair().value(), ElementsAre(3u, kEveryPartition));
}

TYPED_TEST(StoreContractTest, ANewDirectoryStartsUnsettledAndRecordsSightings) {
  EXPECT_TRUE(this->store().EmptyStartUnsettled());
  EXPECT_FALSE(this->store().HoldsData());
  ASSERT_TRUE(this->store().SettleEmptyStart().ok());
  EXPECT_FALSE(this->store().EmptyStartUnsettled());
  ASSERT_TRUE(this->store().RecordActorHoldsData("n2.00000001").ok());
  EXPECT_THAT(this->store().ActorsSeenHoldingData(), ElementsAre("n2.00000001"));
}

TYPED_TEST(StoreContractTest, AHintMergesKeepsItsCreationAndIsNotAReplica) {
  ASSERT_TRUE(this->AddHint("n2", "k", OneValue("a.1", 1, "x"), kStart).ok());
  const absl::Time later = kStart + absl::Seconds(5);
  const absl::StatusOr<Object> merged = this->AddHint("n2", "k", OneValue("b.1", 1, "y"), later);
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ(merged->siblings.size(), 2u);
  EXPECT_EQ(*this->hints().Read("n2", "k"), *merged);
  EXPECT_EQ(*this->store().Read("k"), std::nullopt);
  EXPECT_TRUE(this->store().HoldsData());
  const std::vector<HintInfo> listed = this->hints().List("n2", 10);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].created, kStart);
  EXPECT_EQ(listed[0].newest_write, later);
  // A clock stepped back does not move the newest write back.
  ASSERT_TRUE(this->AddHint("n2", "k", OneValue("c.1", 1, "z"), kStart).ok());
  EXPECT_EQ(this->hints().List("n2", 10).at(0).newest_write, later);
}

TYPED_TEST(StoreContractTest, ReadAllHomesReadsTheKeysHintsInHomeOrder) {
  ASSERT_TRUE(this->AddHint("n3", "k", OneValue("a.1", 1, "x")).ok());
  ASSERT_TRUE(this->AddHint("n2", "k", OneValue("a.1", 1, "x")).ok());
  ASSERT_TRUE(this->AddHint("n2", "other", OneValue("a.1", 1, "x")).ok());
  const auto all = this->hints().ReadAllHomes("k");
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].first, "n2");
  EXPECT_EQ((*all)[1].first, "n3");
}

TYPED_TEST(StoreContractTest, HintsOfAHomeAreLimitedInCountAndBytes) {
  const HintLimits one{.max_count = 1};
  ASSERT_TRUE(this->AddHint("n2", "a", OneValue("a.1", 1, "x"), kStart, one).ok());
  EXPECT_TRUE(this->AddHint("n2", "a", OneValue("a.1", 2, "y"), kStart, one).ok()) << "not new";
  EXPECT_EQ(this->AddHint("n2", "b", OneValue("a.1", 1, "x"), kStart, one).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(this->AddHint("n3", "b", OneValue("a.1", 1, "x"), kStart, one).ok()) << "per home";
  const HintLimits tiny{.max_bytes = 8};
  EXPECT_EQ(this->AddHint("n4", "c", OneValue("a.1", 1, "x"), kStart, tiny).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(*this->hints().Read("n2", "b"), std::nullopt);
  EXPECT_EQ(*this->hints().Read("n4", "c"), std::nullopt);
}

TYPED_TEST(StoreContractTest, ListsOrderByCreationOrByNewestWrite) {
  ASSERT_TRUE(this->AddHint("n2", "a", OneValue("a.1", 1, "v"), kStart).ok());
  ASSERT_TRUE(this->AddHint("n2", "b", OneValue("a.1", 1, "v"), kStart + absl::Seconds(1)).ok());
  ASSERT_TRUE(this->AddHint("n2", "a", OneValue("a.1", 2, "w"), kStart + absl::Seconds(3)).ok());
  EXPECT_THAT(this->Keys(this->hints().List("n2", 10)), ElementsAre("a", "b"));
  EXPECT_THAT(this->Keys(this->hints().List("n2", 1)), ElementsAre("a"));
  EXPECT_THAT(this->Keys(this->hints().ListWrittenBefore("n2", kStart + absl::Seconds(2), 10)),
              ElementsAre("b"));
  EXPECT_THAT(this->Keys(this->hints().ListWrittenBefore("n2", kStart + absl::Seconds(4), 10)),
              ElementsAre("b", "a"));
  EXPECT_THAT(this->hints().List("n3", 10), IsEmpty());
}

TYPED_TEST(StoreContractTest, DeleteIfUnchangedKeepsAHintWrittenSinceItsDelivery) {
  ASSERT_TRUE(this->AddHint("n2", "k", OneValue("a.1", 1, "v")).ok());
  const Object delivered = *this->AddHint("n2", "j", OneValue("a.1", 1, "v"));
  ASSERT_TRUE(this->AddHint("n2", "k", OneValue("b.1", 1, "newer")).ok());
  EXPECT_FALSE(this->hints().DeleteIfUnchanged("n2", "k", OneValue("a.1", 1, "v")).value());
  EXPECT_TRUE(this->hints().DeleteIfUnchanged("n2", "j", delivered).value());
  EXPECT_FALSE(this->hints().DeleteIfUnchanged("n2", "j", delivered).value()) << "gone";
  EXPECT_THAT(this->Keys(this->hints().List("n2", 10)), ElementsAre("k"));
}

TYPED_TEST(StoreContractTest, DropExpiredDropsCountsAndMarksOnlyAStaleHint) {
  ASSERT_TRUE(this->AddHint("n2", "stale", OneValue("a.1", 1, "v"), kStart).ok());
  ASSERT_TRUE(
      this->AddHint("n2", "fresh", OneValue("a.1", 1, "v"), kStart + absl::Seconds(5)).ok());
  const absl::Time cutoff = kStart + absl::Seconds(1);
  EXPECT_FALSE(this->hints().DropExpired("n2", "fresh", cutoff, 8).value());
  EXPECT_TRUE(this->hints().DropExpired("n2", "stale", cutoff, 7).value());
  EXPECT_FALSE(this->hints().DropExpired("n2", "stale", cutoff, 7).value()) << "gone";
  EXPECT_THAT(this->Keys(this->hints().List("n2", 10)), ElementsAre("fresh"));
  EXPECT_THAT(this->store().PartitionsMarkedForRepair().value(), ElementsAre(7u));
  const std::vector<HintSummary> summary = this->hints().Summarize();
  ASSERT_EQ(summary.size(), 1u);
  EXPECT_EQ(summary[0].expired, 1u);
  EXPECT_EQ(summary[0].count, 1u);
}

TYPED_TEST(StoreContractTest, SummarizeIsPerHomeAndKeepsAHomeWithOnlyExpiredHints) {
  ASSERT_TRUE(this->AddHint("n3", "a", OneValue("a.1", 1, "v"), kStart).ok());
  ASSERT_TRUE(this->AddHint("n2", "b", OneValue("a.1", 1, "v"), kStart + absl::Seconds(1)).ok());
  ASSERT_TRUE(this->AddHint("n2", "c", OneValue("a.1", 1, "v"), kStart + absl::Seconds(2)).ok());
  ASSERT_TRUE(this->hints().DropExpired("n3", "a", kStart + absl::Seconds(1), 1).value());
  const std::vector<HintSummary> summary = this->hints().Summarize();
  ASSERT_EQ(summary.size(), 2u);
  EXPECT_EQ(summary[0].home, "n2");
  EXPECT_EQ(summary[0].count, 2u);
  EXPECT_EQ(summary[0].oldest, kStart + absl::Seconds(1));
  EXPECT_GT(summary[0].bytes, 0u);
  EXPECT_EQ(summary[1].home, "n3");
  EXPECT_EQ(summary[1].count, 0u);
  EXPECT_EQ(summary[1].expired, 1u);
}

}  // namespace
}  // namespace quorumkv
