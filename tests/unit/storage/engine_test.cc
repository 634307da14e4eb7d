// The Engine contract, run against MemEngine and RocksDbEngine alike. What
// each engine adds (recovery, locks, injected faults) is in
// engine_recovery_test.cc.
#include "storage/engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "storage/mem_engine.h"
#include "storage/rocksdb_engine.h"
#include "tests/unit/storage/engine_support.h"
#include "tests/unit/storage/temp_dir.h"

namespace quorumkv {
namespace {

using test_support::Entries;
using test_support::Get;
using test_support::kNoSync;
using test_support::kSync;
using test_support::OptionsIn;
using test_support::Put;
using test_support::Scan;
using test_support::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

struct MemEngineFactory {
  Engine& engine() { return mem; }
  void Destroy() {}
  MemEngine mem;
};

struct RocksDbEngineFactory {
  RocksDbEngineFactory() {
    absl::StatusOr<std::unique_ptr<RocksDbEngine>> opened = RocksDbEngine::Open(OptionsIn(*dir));
    EXPECT_TRUE(opened.ok()) << opened.status();
    if (opened.ok()) db = *std::move(opened);
  }
  Engine& engine() { return *db; }
  // Closes the database and deletes its files, for a process about to exit.
  void Destroy() {
    db.reset();
    dir.reset();
  }
  std::optional<TempDir> dir{
      std::in_place};  // declared first: removed after the database is closed
  std::unique_ptr<RocksDbEngine> db;
};

template <typename Factory>
class EngineTest : public ::testing::Test {
 protected:
  Engine& engine() { return factory_.engine(); }
  void PutAll(ColumnFamily cf, const std::vector<std::string>& keys) {
    WriteBatch batch;
    for (const std::string& k : keys) batch.Put(cf, k, "v" + k);
    ASSERT_TRUE(engine().Write(batch, kNoSync).ok());
  }

  Factory factory_;
};

class EngineNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, MemEngineFactory> ? "Mem" : "RocksDb";
  }
};

using Engines = ::testing::Types<MemEngineFactory, RocksDbEngineFactory>;
TYPED_TEST_SUITE(EngineTest, Engines, EngineNames);

TYPED_TEST(EngineTest, GetOfAnAbsentKeyIsNullopt) {
  EXPECT_EQ(Get(this->engine(), ColumnFamily::kData, "absent"), std::nullopt);
}

TYPED_TEST(EngineTest, WrittenValueIsReadBackByteForByte) {
  const std::string key("k\0ey", 4), value("\0v\xff", 3);
  ASSERT_TRUE(Put(this->engine(), ColumnFamily::kData, key, value).ok());
  EXPECT_EQ(Get(this->engine(), ColumnFamily::kData, key), value);
  EXPECT_EQ(Get(this->engine(), ColumnFamily::kData, "k"), std::nullopt);
}

TYPED_TEST(EngineTest, LaterWriteOverwrites) {
  ASSERT_TRUE(Put(this->engine(), ColumnFamily::kData, "k", "one").ok());
  ASSERT_TRUE(Put(this->engine(), ColumnFamily::kData, "k", "two").ok());
  EXPECT_EQ(Get(this->engine(), ColumnFamily::kData, "k"), "two");
}

TYPED_TEST(EngineTest, DeleteRemovesTheKeyAndDeletingAnAbsentKeyIsOk) {
  ASSERT_TRUE(Put(this->engine(), ColumnFamily::kData, "k", "v").ok());
  WriteBatch batch;
  batch.Delete(ColumnFamily::kData, "k");
  batch.Delete(ColumnFamily::kData, "never-written");
  ASSERT_TRUE(this->engine().Write(batch, kNoSync).ok());
  EXPECT_EQ(Get(this->engine(), ColumnFamily::kData, "k"), std::nullopt);
}

TYPED_TEST(EngineTest, ColumnFamiliesAreSeparate) {
  ASSERT_TRUE(Put(this->engine(), ColumnFamily::kData, "k", "data").ok());
  ASSERT_TRUE(Put(this->engine(), ColumnFamily::kHints, "k", "hint").ok());
  EXPECT_EQ(Get(this->engine(), ColumnFamily::kData, "k"), "data");
  EXPECT_EQ(Get(this->engine(), ColumnFamily::kHints, "k"), "hint");
  EXPECT_EQ(Get(this->engine(), ColumnFamily::kMeta, "k"), std::nullopt);
  WriteBatch batch;
  batch.Delete(ColumnFamily::kHints, "k");
  ASSERT_TRUE(this->engine().Write(batch, kNoSync).ok());
  EXPECT_EQ(Get(this->engine(), ColumnFamily::kData, "k"), "data");
}

TYPED_TEST(EngineTest, ScanVisitsTheHalfOpenRangeInKeyOrder) {
  this->PutAll(ColumnFamily::kData, {"d", "a", "c", "b", "e"});
  EXPECT_THAT(Scan(this->engine(), ColumnFamily::kData, "b", "d"),
              ElementsAre(Pair("b", "vb"), Pair("c", "vc")));
  EXPECT_THAT(Scan(this->engine(), ColumnFamily::kData, "bb", "cc"), ElementsAre(Pair("c", "vc")));
  EXPECT_TRUE(Scan(this->engine(), ColumnFamily::kData, "x", "z").empty());
}

TYPED_TEST(EngineTest, ScanWithAnEmptyEndHasNoUpperBound) {
  this->PutAll(ColumnFamily::kData, {"a", "b", "c"});
  EXPECT_THAT(Scan(this->engine(), ColumnFamily::kData, "b", ""),
              ElementsAre(Pair("b", "vb"), Pair("c", "vc")));
  EXPECT_EQ(Scan(this->engine(), ColumnFamily::kData, "", "").size(), 3u);
}

TYPED_TEST(EngineTest, ScanStopsWhenTheVisitorReturnsFalse) {
  this->PutAll(ColumnFamily::kData, {"a", "b", "c"});
  EXPECT_THAT(Scan(this->engine(), ColumnFamily::kData, "", "", 2),
              ElementsAre(Pair("a", "va"), Pair("b", "vb")));
}

// start <= key < end is empty when end < start. Run in a child process:
// an engine that walks past the end of its table crashes there, not here.
TYPED_TEST(EngineTest, ScanWithEndBeforeStartVisitsNothing) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // RocksDB runs threads
  this->PutAll(ColumnFamily::kData, {"a", "b", "c", "d", "e"});
  EXPECT_EXIT(
      {
        const size_t visited = Scan(this->engine(), ColumnFamily::kData, "d", "b").size();
        this->factory_.Destroy();  // exit runs no destructors
        std::exit(visited == 0 ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

TYPED_TEST(EngineTest, ScanSeesOnlyItsColumnFamily) {
  this->PutAll(ColumnFamily::kData, {"a", "c"});
  this->PutAll(ColumnFamily::kHints, {"b"});
  EXPECT_THAT(Scan(this->engine(), ColumnFamily::kHints, "", ""), ElementsAre(Pair("b", "vb")));
  EXPECT_EQ(Scan(this->engine(), ColumnFamily::kData, "", "").size(), 2u);
}

TYPED_TEST(EngineTest, BatchAppliesItsOperationsInOrder) {
  WriteBatch batch;
  batch.Put(ColumnFamily::kData, "put-then-delete", "v");
  batch.Delete(ColumnFamily::kData, "put-then-delete");
  batch.Delete(ColumnFamily::kData, "delete-then-put");
  batch.Put(ColumnFamily::kData, "delete-then-put", "v");
  batch.Put(ColumnFamily::kMeta, "other-family", "m");
  ASSERT_TRUE(this->engine().Write(batch, kNoSync).ok());
  EXPECT_EQ(Get(this->engine(), ColumnFamily::kData, "put-then-delete"), std::nullopt);
  EXPECT_EQ(Get(this->engine(), ColumnFamily::kData, "delete-then-put"), "v");
  EXPECT_EQ(Get(this->engine(), ColumnFamily::kMeta, "other-family"), "m");
}

TYPED_TEST(EngineTest, EmptyBatchIsOk) {
  EXPECT_TRUE(this->engine().Write(WriteBatch(), kSync).ok());
}

// A scan is a consistent view, so it must never see half of a batch.
TYPED_TEST(EngineTest, ConcurrentScansNeverSeeHalfABatch) {
  constexpr int kBatches = 300;
  std::atomic<bool> writer_done = false;
  std::thread writer([&] {
    for (int i = 0; i < kBatches; ++i) {
      WriteBatch batch;
      for (const char* key : {"a", "b", "c"}) batch.Put(ColumnFamily::kData, key, absl::StrCat(i));
      EXPECT_TRUE(this->engine().Write(batch, kNoSync).ok());
    }
    writer_done = true;
  });
  int torn = 0;
  while (!writer_done) {
    const Entries seen = Scan(this->engine(), ColumnFamily::kData, "", "");
    for (const auto& [key, value] : seen) torn += value != seen.front().second;
    if (!seen.empty()) torn += seen.size() != 3;
  }
  writer.join();
  EXPECT_EQ(torn, 0);
  EXPECT_EQ(Get(this->engine(), ColumnFamily::kData, "c"), absl::StrCat(kBatches - 1));
}

}  // namespace
}  // namespace quorumkv
