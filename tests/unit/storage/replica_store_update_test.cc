// EngineReplicaStore's per-key updates: Read, Update and UpdateBatch, atomic
// per key, all-or-nothing per storage write, under concurrent threads.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "replication/object_codec.h"
#include "storage/engine_replica_store.h"
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

TEST(EngineReplicaStoreTest, ReadOfAMissingKeyIsNullopt) {
  MemEngine engine;
  absl::StatusOr<std::optional<Object>> read = OpenStore(&engine, StoreOptions("n1"))->Read("k");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_FALSE(read->has_value());
}

TEST(EngineReplicaStoreTest, UpdateStoresWhatTheMutationReturns) {
  MemEngine engine;
  std::unique_ptr<EngineReplicaStore> store = OpenStore(&engine, StoreOptions("n1"));
  const Object object = WithValue(store->actor(), "v");
  absl::StatusOr<Object> stored = store->Update("k", [&](const std::optional<Object>& current) {
    EXPECT_FALSE(current.has_value());
    return absl::StatusOr<Object>(object);
  });
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(*stored, object);
  EXPECT_EQ(*store->Read("k"), std::optional<Object>(object));
}

TEST(EngineReplicaStoreTest, UpdateWithAMutationErrorWritesNothing) {
  MemEngine engine;
  std::unique_ptr<EngineReplicaStore> store = OpenStore(&engine, StoreOptions("n1"));
  const Object before = WithValue(store->actor(), "before");
  ASSERT_TRUE(store->Update("k", [&](const auto&) { return absl::StatusOr<Object>(before); }).ok());
  const absl::Status refused = absl::FailedPreconditionError("refused");
  EXPECT_EQ(
      store->Update("k", [&](const auto&) { return absl::StatusOr<Object>(refused); }).status(),
      refused);
  EXPECT_EQ(
      store->Update("new", [&](const auto&) { return absl::StatusOr<Object>(refused); }).status(),
      refused);
  EXPECT_EQ(*store->Read("k"), std::optional<Object>(before));
  EXPECT_EQ(*store->Read("new"), std::nullopt);
}

TEST(EngineReplicaStoreTest, UpdateFailsWhenTheEngineCannotWrite) {
  MemEngine base;
  FaultInjectionEngine engine(&base);
  std::unique_ptr<EngineReplicaStore> store = OpenStore(&engine, StoreOptions("n1"));
  engine.SetWriteError(absl::ResourceExhaustedError("disk full"));
  const absl::StatusOr<Object> stored = store->Update(
      "k", [&](const auto&) { return absl::StatusOr<Object>(WithValue(store->actor(), "v")); });
  EXPECT_EQ(stored.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(*store->Read("k"), std::nullopt);
}

TEST(EngineReplicaStoreTest, CorruptStoredObjectIsDataLoss) {
  MemEngine engine;
  std::unique_ptr<EngineReplicaStore> store = OpenStore(&engine, StoreOptions("n1"));
  WriteBatch batch;
  batch.Put(ColumnFamily::kData, "k", "\xff\xff\xff");
  ASSERT_TRUE(engine.Write(batch, {}).ok());
  EXPECT_EQ(store->Read("k").status().code(), absl::StatusCode::kDataLoss);
}

// A counter kept as the value of one sibling: `current` plus one.
absl::StatusOr<Object> Increment(const std::string& actor, const std::optional<Object>& current) {
  int count = 0;
  if (current && !absl::SimpleAtoi(current->siblings.at(0).value, &count)) {
    return absl::InternalError("not a counter");
  }
  return WithValue(actor, absl::StrCat(count + 1));
}

TEST(EngineReplicaStoreTest, UpdateIsAtomicPerKeyUnderConcurrentThreads) {
  constexpr int kThreads = 8;
  constexpr int kIncrements = 200;
  MemEngine engine;
  std::unique_ptr<EngineReplicaStore> store = OpenStore(&engine, StoreOptions("n1"));
  auto increment = [&](const std::optional<Object>& current) {
    return Increment(store->actor(), current);
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements; ++i) EXPECT_TRUE(store->Update("counter", increment).ok());
    });
  }
  for (std::thread& t : threads) t.join();
  const absl::StatusOr<std::optional<Object>> final_state = store->Read("counter");
  ASSERT_TRUE(final_state.ok() && final_state->has_value());
  EXPECT_EQ((*final_state)->siblings.at(0).value, absl::StrCat(kThreads * kIncrements));
}

// Adds `value` as a sibling of its own actor (a distinct dot per value).
absl::StatusOr<Object> Append(const std::optional<Object>& current, const std::string& value) {
  Object next = current.value_or(Object());
  const Dot dot{value, 1};
  next.context.Add(dot);
  next.siblings.push_back(Sibling{.dot = dot, .value = value});
  return next;
}

TEST(EngineReplicaStoreTest, UpdateBatchAppliesEachUpdateInOrderAndReturnsEachResult) {
  MemEngine engine;
  std::unique_ptr<EngineReplicaStore> store = OpenStore(&engine, StoreOptions("n1"));
  const absl::Status refused = absl::FailedPreconditionError("refused");
  auto append = [](std::string value) {
    return [value](const std::optional<Object>& current) { return Append(current, value); };
  };
  auto a1 = append("a1"), b1 = append("b1"), a2 = append("a2");
  auto refuse = [&](const std::optional<Object>&) { return absl::StatusOr<Object>(refused); };
  std::vector<absl::StatusOr<Object>> results =
      store->UpdateBatch({{"a", a1}, {"b", b1}, {"c", refuse}, {"a", a2}});
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[2].status(), refused);
  ASSERT_TRUE(results[3].ok()) << results[3].status();
  EXPECT_EQ(results[3]->siblings.size(), 2u) << "the second update of a saw the first";
  EXPECT_EQ(*store->Read("a"), std::optional<Object>(*results[3]));
  EXPECT_EQ(*store->Read("b"), std::optional<Object>(*results[1]));
  EXPECT_EQ(*store->Read("c"), std::nullopt);
}

TEST(EngineReplicaStoreTest, UpdateBatchIsOneWriteThatSurvivesPowerLoss) {
  MemEngine engine;
  std::unique_ptr<EngineReplicaStore> store = OpenStore(&engine, StoreOptions("n1"));
  auto x = [](const std::optional<Object>& c) { return Append(c, "x"); };
  ASSERT_TRUE(store->UpdateBatch({{"a", x}, {"b", x}})[1].ok());
  store.reset();
  engine.SimulatePowerLoss();
  store = OpenStore(&engine, StoreOptions("n1"));
  EXPECT_TRUE(store->Read("a")->has_value());
  EXPECT_TRUE(store->Read("b")->has_value());
}

TEST(EngineReplicaStoreTest, UpdateBatchFailsEveryUpdateItsWriteCarried) {
  MemEngine base;
  FaultInjectionEngine engine(&base);
  std::unique_ptr<EngineReplicaStore> store = OpenStore(&engine, StoreOptions("n1"));
  auto x = [](const std::optional<Object>& c) { return Append(c, "x"); };
  ASSERT_TRUE(store->Update("same", x).ok());
  engine.SetWriteError(absl::ResourceExhaustedError("disk full"));
  // "same" is unchanged (x is there already): nothing of it rests on the write.
  auto unchanged = [](const std::optional<Object>& c) { return absl::StatusOr<Object>(*c); };
  std::vector<absl::StatusOr<Object>> results =
      store->UpdateBatch({{"a", x}, {"same", unchanged}, {"b", x}});
  EXPECT_EQ(results[0].status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(results[1].ok());
  EXPECT_EQ(results[2].status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(*store->Read("a"), std::nullopt);
}

TEST(EngineReplicaStoreTest, UpdateBatchesAndUpdatesOfSharedKeysDoNotDeadlockOrLoseIncrements) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 100;
  MemEngine engine;
  std::unique_ptr<EngineReplicaStore> store = OpenStore(&engine, StoreOptions("n1"));
  auto increment = [&](const std::optional<Object>& current) {
    return Increment(store->actor(), current);
  };
  const std::vector<std::string> keys = {"k0", "k1", "k2", "k3", "k4"};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        // Each thread takes the keys in another order; one thread of two
        // updates them one at a time.
        std::vector<ReplicaStore::KeyUpdate> updates;
        for (size_t k = 0; k < keys.size(); ++k) {
          updates.push_back({keys[(k + t) % keys.size()], increment});
        }
        if (t % 2 == 0) {
          for (const absl::StatusOr<Object>& r : store->UpdateBatch(updates)) EXPECT_TRUE(r.ok());
        } else {
          for (const auto& u : updates) EXPECT_TRUE(store->Update(u.key, u.mutate).ok());
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& key : keys) {
    EXPECT_EQ((*store->Read(key))->siblings.at(0).value, absl::StrCat(kThreads * kRounds)) << key;
  }
}

}  // namespace
}  // namespace quorumkv
