// EngineReplicaStore's identity: the actor id, dots that never repeat
// across restarts and power losses, and the generations a loss moves it to.
// Its per-key updates are in replica_store_update_test.cc.
#include "storage/engine_replica_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "replication/merkle_tree.h"
#include "replication/object_codec.h"
#include "storage/fault_injection_engine.h"
#include "storage/mem_engine.h"
#include "storage/rocksdb_engine.h"
#include "tests/unit/storage/store_support.h"
#include "tests/unit/storage/temp_dir.h"

namespace quorumkv {
namespace {

using test_support::TempDir;
using ::testing::HasSubstr;

using test_support::OpenStore;
using test_support::StoreOptions;
using test_support::WithValue;

// Issues `count` dots, checking each is above `last` and of `actor`.
void IssueIncreasing(EngineReplicaStore& store, int count, uint64_t& last) {
  for (int i = 0; i < count; ++i) {
    absl::StatusOr<Dot> dot = store.IssueDot();
    ASSERT_TRUE(dot.ok()) << dot.status();
    EXPECT_EQ(dot->actor, store.actor());
    ASSERT_GT(dot->counter, last) << "dot reused or went backwards";
    last = dot->counter;
  }
}

TEST(EngineReplicaStoreTest, ActorIsNodeIdDotEpochInHex) {
  MemEngine engine;
  EXPECT_EQ(OpenStore(&engine, StoreOptions("n1", 0x2a))->actor(), "n1.0000002a");
}

TEST(EngineReplicaStoreTest, ActorIsCreatedOnceAndKeptAcrossReopen) {
  MemEngine engine;
  const std::string actor = OpenStore(&engine, StoreOptions("n1", 1))->actor();
  EXPECT_EQ(OpenStore(&engine, StoreOptions("n1", 2))->actor(), actor);
}

TEST(EngineReplicaStoreTest, EmptyDataDirectoryGetsANewActor) {
  MemEngine before, wiped;
  const std::string actor = OpenStore(&before, StoreOptions("n1", 1))->actor();
  EXPECT_NE(OpenStore(&wiped, StoreOptions("n1", 2))->actor(), actor);
}

TEST(EngineReplicaStoreTest, ReopeningAsAnotherNodeIsFailedPrecondition) {
  MemEngine engine;
  OpenStore(&engine, StoreOptions("n1"));
  for (const std::string other : {"n2", "n", "n11"}) {
    const absl::Status status = EngineReplicaStore::Open(&engine, StoreOptions(other)).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << other;
    EXPECT_THAT(std::string(status.message()), HasSubstr("belongs to actor n1.0000002a")) << other;
  }
}

TEST(EngineReplicaStoreTest, ZeroDotLeaseBlockIsInvalidArgument) {
  MemEngine engine;
  EXPECT_EQ(EngineReplicaStore::Open(&engine, StoreOptions("n1", 1, 0)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(EngineReplicaStoreTest, CorruptDotLeaseIsDataLoss) {
  MemEngine engine;
  WriteBatch batch;
  batch.Put(ColumnFamily::kMeta, "dot_lease", "twelve");
  ASSERT_TRUE(engine.Write(batch, {}).ok());
  EXPECT_EQ(EngineReplicaStore::Open(&engine, StoreOptions("n1")).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(EngineReplicaStoreTest, DotsStrictlyIncreaseAcrossRocksDbReopen) {
  TempDir dir;
  uint64_t last = 0;
  std::string actor;
  for (int life = 0; life < 4; ++life) {
    absl::StatusOr<std::unique_ptr<RocksDbEngine>> db =
        RocksDbEngine::Open({.path = dir.path() + "/db", .watermark_dir = dir.path() + "/wm"});
    ASSERT_TRUE(db.ok()) << db.status();
    std::unique_ptr<EngineReplicaStore> store = OpenStore(db->get(), StoreOptions("n1"));
    ASSERT_NE(store, nullptr);
    if (life == 0) actor = store->actor();
    EXPECT_EQ(store->actor(), actor);  // kept, not re-created
    IssueIncreasing(*store, 7, last);
  }
}

TEST(EngineReplicaStoreTest, DotsNeverRepeatAfterPowerLoss) {
  constexpr uint64_t kSeed = 7;
  SCOPED_TRACE(absl::StrCat("seed=", kSeed));
  std::mt19937_64 rng(kSeed);
  MemEngine engine;
  ReplicaStoreOptions options = StoreOptions("n1");
  options.sync_writes = false;  // object writes stay unsynced until a lease write
  uint64_t last = 0;
  for (int life = 0; life < 20; ++life) {
    std::unique_ptr<EngineReplicaStore> store = OpenStore(&engine, options);
    ASSERT_NE(store, nullptr);
    const int dots = static_cast<int>(rng() % 10);
    for (int i = 0; i < dots; ++i) {
      IssueIncreasing(*store, 1, last);
      ASSERT_TRUE(store
                      ->Update(absl::StrCat("k", rng() % 4),
                               [&](const auto&) {
                                 return absl::StatusOr<Object>(
                                     WithValue(store->actor(), absl::StrCat(i)));
                               })
                      .ok());
    }
    engine.SimulatePowerLoss();
  }
}

// The put path on one replica: issue a dot and apply a write, atomically.
Object WriteAt(EngineReplicaStore& store, const std::string& key, const std::string& value) {
  absl::StatusOr<Object> stored =
      store.Update(key, [&](const std::optional<Object>& current) -> absl::StatusOr<Object> {
        absl::StatusOr<Dot> dot = store.IssueDot();
        if (!dot.ok()) return dot.status();
        return ApplyWrite(current.value_or(Object()), {}, Sibling{.dot = *dot, .value = value});
      });
  EXPECT_TRUE(stored.ok()) << stored.status();
  return stored.ok() ? *stored : Object();
}

// With sync_writes=false a power loss may lose this replica's copy of an
// acked write; another replica still has it. The node's next blind write is
// concurrent with it, so merging the two must keep both (SPEC 2: a node that
// lost its data must not issue writes that claim to have seen what it lost).
TEST(EngineReplicaStoreTest, BlindWriteAfterPowerLossKeepsTheWriteTheNodeLost) {
  MemEngine engine;
  ReplicaStoreOptions options = StoreOptions("n1", 1, 10'000);
  options.sync_writes = false;
  std::unique_ptr<EngineReplicaStore> store = OpenStore(&engine, options);
  const Object elsewhere = WriteAt(*store, "k", "acked");  // also merged by another replica
  store.reset();
  engine.SimulatePowerLoss();
  ASSERT_EQ(*OpenStore(&engine, options)->Read("k"), std::nullopt);  // this copy is gone
  store = OpenStore(&engine, options);
  const Object after = WriteAt(*store, "k", "blind");
  const Object merged = Sync(elsewhere, after);
  std::vector<std::string> values;
  for (const Sibling& s : merged.siblings) values.push_back(s.value);
  EXPECT_THAT(values, ::testing::UnorderedElementsAre("acked", "blind"))
      << "the acked write was dropped by a write that never saw it";
}

bool EveryPartitionMarked(EngineReplicaStore& store) {
  const auto marked = store.PartitionsMarkedForRepair();
  return marked.ok() && std::find(marked->begin(), marked->end(), kEveryPartition) != marked->end();
}

// A crash of the process loses nothing the engine wrote (the OS keeps it,
// synced or not), and the engine can prove it: the actor stays.
TEST(EngineReplicaStoreTest, ACrashOfTheProcessKeepsTheActorWithOrWithoutSyncWrites) {
  for (bool sync : {true, false}) {
    MemEngine engine;
    ReplicaStoreOptions options = StoreOptions("n1");
    options.sync_writes = sync;
    const std::string actor = OpenStore(&engine, options)->actor();  // dropped: a crash
    std::unique_ptr<EngineReplicaStore> store = OpenStore(&engine, options);
    EXPECT_EQ(store->actor(), actor) << "sync_writes=" << sync;
    EXPECT_FALSE(EveryPartitionMarked(*store));
  }
}

// After a power loss the engine cannot tell what it lost: the node comes
// back as the next generation of its actor, every partition marked.
// Epochs and generation tokens 1, 2, 3, ...
ReplicaStoreOptions CountingOptions(const std::string& node) {
  ReplicaStoreOptions options = StoreOptions(node);
  options.new_epoch = [next = std::make_shared<uint32_t>(0)] { return ++*next; };
  return options;
}

TEST(EngineReplicaStoreTest, APowerLossMovesToTheNextGenerationAndMarksEveryPartition) {
  MemEngine engine;
  const ReplicaStoreOptions options = CountingOptions("n1");
  EXPECT_EQ(OpenStore(&engine, options)->actor(), "n1.00000001");
  engine.SimulatePowerLoss();
  std::unique_ptr<EngineReplicaStore> store = OpenStore(&engine, options);
  EXPECT_EQ(store->actor(), "n1.00000001.00000002");
  EXPECT_TRUE(EveryPartitionMarked(*store));
  EXPECT_TRUE(store->MarkedForRepair(17));
  store.reset();
  engine.SimulatePowerLoss();
  EXPECT_EQ(OpenStore(&engine, options)->actor(), "n1.00000001.00000003");
}

// The case of a review: a log that lost its tail. The mark and the new
// generation survive the next, ordinary restarts.
TEST(EngineReplicaStoreTest, ALostLogTailMovesToTheNextGenerationForGood) {
  MemEngine engine;
  const ReplicaStoreOptions options = CountingOptions("n1");
  std::unique_ptr<EngineReplicaStore> store = OpenStore(&engine, options);
  WriteAt(*store, "a", "1");
  WriteAt(*store, "b", "2");
  store.reset();
  ASSERT_EQ(engine.SimulateLostLogTail(1), 1u);
  store = OpenStore(&engine, options);
  EXPECT_EQ(store->actor(), "n1.00000001.00000002");
  EXPECT_EQ(*store->Read("b"), std::nullopt);
  store.reset();
  store = OpenStore(&engine, options);
  EXPECT_EQ(store->actor(), "n1.00000001.00000002");
  EXPECT_TRUE(EveryPartitionMarked(*store));
}

// The log can lose the very writes that moved the node to a new generation
// (its actor and lease): the next open must not take the same generation
// again, or its dots would repeat those of the lost one. Found by kvsim.
TEST(EngineReplicaStoreTest, AGenerationWhoseRecordTheLogLostIsNeverTakenAgain) {
  MemEngine engine;
  uint32_t epochs = 0;
  ReplicaStoreOptions options = StoreOptions("n1");
  options.new_epoch = [&epochs] { return ++epochs; };
  OpenStore(&engine, options);
  engine.SimulatePowerLoss();
  std::unique_ptr<EngineReplicaStore> store = OpenStore(&engine, options);
  const Dot first = store->IssueDot().value();
  store.reset();
  ASSERT_EQ(engine.SimulateLostLogTail(2), 2u);  // the generation's open, and its lease
  store = OpenStore(&engine, options);
  const Dot again = store->IssueDot().value();
  EXPECT_NE(again, first) << "a dot was issued twice";
  EXPECT_NE(store->actor(), first.actor);
}

TEST(EngineReplicaStoreTest, ACleanCloseKeepsTheActorThroughAPowerLoss) {
  MemEngine engine;
  ReplicaStoreOptions options = StoreOptions("n1");
  options.sync_writes = false;
  std::unique_ptr<EngineReplicaStore> store = OpenStore(&engine, options);
  const std::string actor = store->actor();
  ASSERT_TRUE(store->CloseCleanly().ok());
  store.reset();
  engine.SimulatePowerLoss();
  store = OpenStore(&engine, options);
  EXPECT_EQ(store->actor(), actor);
  EXPECT_FALSE(EveryPartitionMarked(*store));
  // The mark is used up: a power loss of this run is unclean again.
  store.reset();
  engine.SimulatePowerLoss();
  EXPECT_NE(OpenStore(&engine, options)->actor(), actor);
}

// An engine that finds writes missing is believed over a clean mark: an
// older copy of a cleanly stopped directory carries one.
TEST(EngineReplicaStoreTest, LostWritesOverrideACleanMark) {
  MemEngine engine;
  std::unique_ptr<EngineReplicaStore> store = OpenStore(&engine, StoreOptions("n1"));
  WriteAt(*store, "a", "1");
  ASSERT_TRUE(store->CloseCleanly().ok());
  store.reset();
  ASSERT_EQ(engine.SimulateLostLogTail(1), 1u);  // the clean mark itself
  EXPECT_NE(OpenStore(&engine, StoreOptions("n1"))->actor(), "n1.0000002a");
}

TEST(EngineReplicaStoreTest, AWipedDiskGetsAFreshActor) {
  MemEngine engine;
  const std::string first = OpenStore(&engine, StoreOptions("n1", 1))->actor();
  engine.Wipe();
  std::unique_ptr<EngineReplicaStore> store = OpenStore(&engine, StoreOptions("n1", 2));
  EXPECT_NE(store->actor(), first);
  EXPECT_EQ(store->actor(), "n1.00000002");
}

TEST(EngineReplicaStoreTest, AnObjectThatCouldNotBeReadBackIsNeverStored) {
  MemEngine engine;
  std::unique_ptr<EngineReplicaStore> store = OpenStore(&engine, StoreOptions("n1"));
  Object huge;
  for (uint64_t i = 1; i <= kMaxDecodedSiblings + 1; ++i) {
    huge.context.Add(Dot{"a.1", i});
    huge.siblings.push_back(Sibling{.dot = Dot{"a.1", i}, .tombstone = true});
  }
  const absl::StatusOr<Object> stored = store->Update(
      "k", [&](const std::optional<Object>&) -> absl::StatusOr<Object> { return huge; });
  EXPECT_EQ(stored.status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store->Read("k").ok());
  EXPECT_FALSE(store->Read("k")->has_value());
}

TEST(EngineReplicaStoreTest, FailedLeaseWriteIssuesNoDotAndLaterDotsContinue) {
  MemEngine base;
  FaultInjectionEngine engine(&base);
  std::unique_ptr<EngineReplicaStore> store = OpenStore(&engine, StoreOptions("n1"));
  uint64_t last = 0;
  IssueIncreasing(*store, 3, last);  // the first lease: 1..3
  engine.SetWriteError(absl::ResourceExhaustedError("disk full"));
  EXPECT_EQ(store->IssueDot().status().code(), absl::StatusCode::kResourceExhausted);
  engine.ClearWriteError();
  IssueIncreasing(*store, 1, last);
  EXPECT_EQ(last, 4u);
}

// A directory written before the segment index existed: its keys have no
// entries and no marker says the index is complete. Opening it builds the
// index, so anti-entropy lists every key.
TEST(EngineReplicaStoreTest, ADirectoryFromBeforeTheSegmentIndexGetsItBuiltWhenOpened) {
  MemEngine engine;
  {
    std::unique_ptr<EngineReplicaStore> store = OpenStore(&engine, StoreOptions("n1"));
    for (int i = 0; i < 200; ++i) {
      ASSERT_TRUE(
          store
              ->Update(absl::StrCat("k", i),
                       [&](const auto&) { return absl::StatusOr<Object>(WithValue("n1.1", "v")); })
              .ok());
    }
  }
  WriteBatch forget;  // what an older version left
  ASSERT_TRUE(engine
                  .Scan(ColumnFamily::kMeta, "seg", "seh",
                        [&](absl::string_view key, absl::string_view) {
                          forget.Delete(ColumnFamily::kMeta, key);
                          return true;
                        })
                  .ok());
  ASSERT_GE(forget.ops().size(), 200u);
  forget.Delete(ColumnFamily::kMeta, "segment_index_complete");
  ASSERT_TRUE(engine.Write(forget, WriteOptions{}).ok());

  std::unique_ptr<EngineReplicaStore> reopened = OpenStore(&engine, StoreOptions("n1"));
  int listed = 0;
  for (uint32_t segment = 0; segment < MerkleTree::kSegments; ++segment) {
    ASSERT_TRUE(reopened
                    ->ForEachObjectInSegment(segment, 0, UINT64_MAX,
                                             [&](absl::string_view, const Object&) { ++listed; })
                    .ok());
  }
  EXPECT_EQ(listed, 200);
}

TEST(EngineReplicaStoreTest, ADirectoryFromBeforeTheTombstoneIndexGetsItBuiltWhenOpened) {
  MemEngine engine;
  {
    std::unique_ptr<EngineReplicaStore> store = OpenStore(&engine, StoreOptions("n1"));
    for (int i = 0; i < 10; ++i) {
      Object object = WithValue("n1.1", "v");
      if (i % 2 == 0) {
        object.siblings[0].tombstone = true;
        object.siblings[0].value.clear();
      }
      ASSERT_TRUE(store
                      ->Update(absl::StrCat("k", i),
                               [&](const auto&) { return absl::StatusOr<Object>(object); })
                      .ok());
    }
  }
  WriteBatch forget;  // what an older version left
  ASSERT_TRUE(engine
                  .Scan(ColumnFamily::kMeta, "tomb/", "tomb0",
                        [&](absl::string_view key, absl::string_view) {
                          forget.Delete(ColumnFamily::kMeta, key);
                          return true;
                        })
                  .ok());
  ASSERT_EQ(forget.ops().size(), 5u);
  forget.Delete(ColumnFamily::kMeta, "tombstone_index_complete");
  ASSERT_TRUE(engine.Write(forget, WriteOptions{}).ok());

  std::unique_ptr<EngineReplicaStore> reopened = OpenStore(&engine, StoreOptions("n1"));
  std::vector<std::string> deleted;
  ASSERT_TRUE(reopened
                  ->ForEachTombstoneBefore(UINT64_MAX,
                                           [&](absl::string_view key, const Object&) {
                                             deleted.emplace_back(key);
                                             return true;
                                           })
                  .ok());
  std::sort(deleted.begin(), deleted.end());
  EXPECT_EQ(deleted, (std::vector<std::string>{"k0", "k2", "k4", "k6", "k8"}));
}

}  // namespace
}  // namespace quorumkv
