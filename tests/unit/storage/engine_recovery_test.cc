// What each engine adds to the Engine contract (engine_test.cc): MemEngine's
// power-loss model, RocksDB's recovery report, reopen, lock and corrupt
// files, FaultInjectionEngine's failing writes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "replication/clock.h"
#include "replication/logging.h"
#include "storage/engine.h"
#include "storage/fault_injection_engine.h"
#include "storage/logged_engine.h"
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

TEST(MemEngineTest, PowerLossDropsUnsyncedWrites) {
  MemEngine engine;
  ASSERT_TRUE(Put(engine, ColumnFamily::kData, "k", "v", kNoSync).ok());
  EXPECT_EQ(engine.unsynced_batches(), 1u);
  engine.SimulatePowerLoss();
  EXPECT_EQ(Get(engine, ColumnFamily::kData, "k"), std::nullopt);
  EXPECT_EQ(engine.unsynced_batches(), 0u);
}

TEST(MemEngineTest, PowerLossKeepsSyncedWrites) {
  MemEngine engine;
  ASSERT_TRUE(Put(engine, ColumnFamily::kData, "k", "v", kSync).ok());
  engine.SimulatePowerLoss();
  EXPECT_EQ(Get(engine, ColumnFamily::kData, "k"), "v");
}

TEST(MemEngineTest, SyncedWriteAlsoSavesTheUnsyncedWritesBeforeIt) {
  MemEngine engine;
  ASSERT_TRUE(Put(engine, ColumnFamily::kData, "early", "1", kNoSync).ok());
  ASSERT_TRUE(Put(engine, ColumnFamily::kMeta, "synced", "2", kSync).ok());
  ASSERT_TRUE(Put(engine, ColumnFamily::kData, "late", "3", kNoSync).ok());
  engine.SimulatePowerLoss();
  EXPECT_EQ(Get(engine, ColumnFamily::kData, "early"), "1");
  EXPECT_EQ(Get(engine, ColumnFamily::kMeta, "synced"), "2");
  EXPECT_EQ(Get(engine, ColumnFamily::kData, "late"), std::nullopt);
}

TEST(MemEngineTest, PowerLossUndoesAnUnsyncedDelete) {
  MemEngine engine;
  ASSERT_TRUE(Put(engine, ColumnFamily::kData, "k", "v", kSync).ok());
  WriteBatch del;
  del.Delete(ColumnFamily::kData, "k");
  ASSERT_TRUE(engine.Write(del, kNoSync).ok());
  engine.SimulatePowerLoss();
  EXPECT_EQ(Get(engine, ColumnFamily::kData, "k"), "v");
}

TEST(MemEngineTest, ALostLogTailTakesBackTheLastSyncedWritesAndSaysSo) {
  MemEngine engine;
  for (const char* key : {"k1", "k2", "k3"}) {
    ASSERT_TRUE(Put(engine, ColumnFamily::kData, key, "v", kSync).ok());
  }
  EXPECT_EQ(engine.LastRecovery().verdict, RecoveryReport::Verdict::kComplete);
  EXPECT_EQ(engine.SimulateLostLogTail(2), 2u);
  EXPECT_EQ(Get(engine, ColumnFamily::kData, "k1"), "v");
  EXPECT_EQ(Get(engine, ColumnFamily::kData, "k2"), std::nullopt);
  EXPECT_EQ(Get(engine, ColumnFamily::kData, "k3"), std::nullopt);
  EXPECT_EQ(engine.LastRecovery().verdict, RecoveryReport::Verdict::kLost);
  ASSERT_TRUE(Put(engine, ColumnFamily::kData, "k4", "v", kSync).ok());
  EXPECT_EQ(engine.LastRecovery().verdict, RecoveryReport::Verdict::kComplete);
}

TEST(MemEngineTest, APowerLossLeavesTheRecoveryUnknownAndAWipeLeavesNothing) {
  MemEngine engine;
  ASSERT_TRUE(Put(engine, ColumnFamily::kData, "k", "v", kSync).ok());
  engine.SimulatePowerLoss();
  EXPECT_EQ(engine.LastRecovery().verdict, RecoveryReport::Verdict::kUnknown);
  EXPECT_EQ(Get(engine, ColumnFamily::kData, "k"), "v");
  engine.Wipe();
  EXPECT_EQ(Get(engine, ColumnFamily::kData, "k"), std::nullopt);
  engine.SimulatePowerLoss();
  EXPECT_EQ(Get(engine, ColumnFamily::kData, "k"), std::nullopt);
}

TEST(RocksDbEngineTest, SyncedAndUnsyncedWritesSurviveAReopen) {
  TempDir dir;
  const RocksDbEngineOptions options = OptionsIn(dir);
  {
    absl::StatusOr<std::unique_ptr<RocksDbEngine>> db = RocksDbEngine::Open(options);
    ASSERT_TRUE(db.ok()) << db.status();
    ASSERT_TRUE(Put(**db, ColumnFamily::kData, "synced", "1", kSync).ok());
    ASSERT_TRUE(Put(**db, ColumnFamily::kMeta, "unsynced", "2", kNoSync).ok());
  }
  absl::StatusOr<std::unique_ptr<RocksDbEngine>> db = RocksDbEngine::Open(options);
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ(Get(**db, ColumnFamily::kData, "synced"), "1");
  EXPECT_EQ(Get(**db, ColumnFamily::kMeta, "unsynced"), "2");
}

using Verdict = RecoveryReport::Verdict;

// Writes `count` synced batches, each to its own key, and closes the engine.
void WriteAndClose(const RocksDbEngineOptions& options, int count) {
  absl::StatusOr<std::unique_ptr<RocksDbEngine>> db = RocksDbEngine::Open(options);
  ASSERT_TRUE(db.ok()) << db.status();
  for (int i = 0; i < count; ++i) {
    ASSERT_TRUE(Put(**db, ColumnFamily::kData, absl::StrCat("k", i), "v", kSync).ok());
  }
}

Verdict VerdictOfNextOpen(const RocksDbEngineOptions& options) {
  absl::StatusOr<std::unique_ptr<RocksDbEngine>> db = RocksDbEngine::Open(options);
  EXPECT_TRUE(db.ok()) << db.status();
  return db.ok() ? (*db)->LastRecovery().verdict : Verdict::kUnknown;
}

TEST(RocksDbEngineTest, AReopenThatRecoveredEveryWriteIsComplete) {
  TempDir dir;
  const RocksDbEngineOptions options = OptionsIn(dir);
  EXPECT_EQ(VerdictOfNextOpen(options), Verdict::kUnknown) << "a first open has no record";
  WriteAndClose(options, 5);
  EXPECT_EQ(VerdictOfNextOpen(options), Verdict::kComplete);
}

// Truncates every write-ahead log in the database at `path` to half its
// size, as a disk that lost the tail of what it was told was synced.
void CutLogsInHalf(const std::string& path) {
  for (const auto& entry : std::filesystem::directory_iterator(path)) {
    if (entry.path().extension() != ".log") continue;
    std::filesystem::resize_file(entry.path(), entry.file_size() / 2);
  }
}

// RocksDB's point-in-time recovery drops a damaged log tail without an
// error: the watermark is what tells.
TEST(RocksDbEngineTest, ALogThatLostItsTailIsReportedLost) {
  TempDir dir;
  const RocksDbEngineOptions options = OptionsIn(dir);
  WriteAndClose(options, 50);
  CutLogsInHalf(options.path);
  absl::StatusOr<std::unique_ptr<RocksDbEngine>> db = RocksDbEngine::Open(options);
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ((*db)->LastRecovery().verdict, Verdict::kLost);
  EXPECT_THAT((*db)->LastRecovery().detail, HasSubstr("acknowledged"));
  EXPECT_EQ(Get(**db, ColumnFamily::kData, "k49"), std::nullopt);
}

// An open that found writes missing but died before writing anything (a
// wrong --id, a full disk, a kill) must leave the loss for the next open.
TEST(RocksDbEngineTest, ALossStaysOnRecordUntilTheFirstWriteAfterIt) {
  TempDir dir;
  const RocksDbEngineOptions options = OptionsIn(dir);
  WriteAndClose(options, 50);
  CutLogsInHalf(options.path);
  EXPECT_EQ(VerdictOfNextOpen(options), Verdict::kLost);
  EXPECT_EQ(VerdictOfNextOpen(options), Verdict::kLost) << "an open that wrote nothing forgot it";
  WriteAndClose(options, 1);
  EXPECT_EQ(VerdictOfNextOpen(options), Verdict::kComplete);
}

TEST(RocksDbEngineTest, AnOlderCopyOfTheDirectoryIsReportedLost) {
  TempDir dir;
  const RocksDbEngineOptions options = OptionsIn(dir);
  WriteAndClose(options, 3);
  std::filesystem::copy(options.path, dir.path() + "/backup");
  WriteAndClose(options, 10);
  std::filesystem::remove_all(options.path);
  std::filesystem::rename(dir.path() + "/backup", options.path);
  EXPECT_EQ(VerdictOfNextOpen(options), Verdict::kLost);
}

TEST(RocksDbEngineTest, WithoutAWatermarkTheRecoveryIsUnknown) {
  TempDir dir;
  const RocksDbEngineOptions options = OptionsIn(dir);
  WriteAndClose(options, 3);
  std::filesystem::remove_all(options.watermark_dir);  // as a machine restart clears /dev/shm
  EXPECT_EQ(VerdictOfNextOpen(options), Verdict::kUnknown);
  RocksDbEngineOptions none = options;
  none.watermark_dir = "";
  EXPECT_EQ(VerdictOfNextOpen(none), Verdict::kUnknown);
}

// A table file whose bytes rotted: reads of it fail DATA_LOSS naming the
// file, and the node's engine (LoggedEngine over it) logs it.
TEST(RocksDbEngineTest, ACorruptTableFileIsDataLossNamingItAndLogged) {
  TempDir dir;
  const RocksDbEngineOptions options = OptionsIn(dir);
  {
    absl::StatusOr<std::unique_ptr<RocksDbEngine>> db = RocksDbEngine::Open(options);
    ASSERT_TRUE(db.ok()) << db.status();
    std::mt19937_64 rng(1);  // incompressible: the table file holds all of it
    std::string value(8192, '\0');
    for (char& c : value) c = static_cast<char>(rng());
    ASSERT_TRUE(Put(**db, ColumnFamily::kData, "k", value, kSync).ok());
    ASSERT_TRUE((*db)->FlushAndCompact().ok());
  }
  std::string table;
  for (const auto& entry : std::filesystem::directory_iterator(options.path)) {
    if (entry.path().extension() == ".sst" && entry.file_size() > 4096) table = entry.path();
  }
  ASSERT_FALSE(table.empty()) << "no table file holds the value";
  {
    std::fstream file(table, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(100);
    file << std::string(64, '\xff');
  }
  std::vector<std::string> logged;
  SetLogSink([&](LogLevel, absl::string_view line) { logged.emplace_back(line); });
  absl::StatusOr<std::unique_ptr<RocksDbEngine>> db = RocksDbEngine::Open(options);
  ManualClock clock;
  std::optional<LoggedEngine> node_engine;
  if (db.ok()) node_engine.emplace(db->get(), &clock);
  absl::Status status = db.ok() ? node_engine->Get(ColumnFamily::kData, "k").status() : db.status();
  SetLogSink(nullptr);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  const std::string file_name = std::filesystem::path(table).filename();
  EXPECT_THAT(std::string(status.message()), HasSubstr(file_name));
  EXPECT_THAT(logged, ::testing::Contains(HasSubstr(file_name)));
}

TEST(RocksDbEngineTest, SecondOpenOfTheSameDirectoryIsUnavailable) {
  TempDir dir;
  const RocksDbEngineOptions options = OptionsIn(dir);
  absl::StatusOr<std::unique_ptr<RocksDbEngine>> first = RocksDbEngine::Open(options);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(RocksDbEngine::Open(options).status().code(), absl::StatusCode::kUnavailable);
}

// A full disk is logged once per episode, not once per refused write: the
// first refusal begins it, the next write that succeeds ends it with the
// count.
TEST(LoggedEngineTest, ADiskFullEpisodeIsOneLineAtItsStartAndOneAtItsEnd) {
  MemEngine base;
  FaultInjectionEngine disk(&base);
  ManualClock clock;
  LoggedEngine engine(&disk, &clock);
  std::vector<std::string> logged;
  SetLogSink([&](LogLevel, absl::string_view line) { logged.emplace_back(line); });
  disk.SetWriteError(absl::ResourceExhaustedError("disk full"));
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(Put(engine, ColumnFamily::kData, "k", "v"),
              absl::ResourceExhaustedError("disk full"));
    clock.Advance(absl::Seconds(1));
  }
  EXPECT_EQ(Get(engine, ColumnFamily::kData, "k"), std::nullopt);
  disk.ClearWriteError();
  ASSERT_TRUE(Put(engine, ColumnFamily::kData, "k", "v").ok());
  ASSERT_TRUE(Put(engine, ColumnFamily::kData, "k", "v").ok());
  SetLogSink(nullptr);
  EXPECT_THAT(logged, ElementsAre("event=disk_full episode=begin op=write error=\"disk full\"",
                                  "event=disk_full episode=end occurrences=50 lasted=50s"));
}

TEST(FaultInjectionEngineTest, FailsWritesWithTheInjectedErrorAndWritesNothing) {
  MemEngine base;
  FaultInjectionEngine engine(&base);
  engine.SetWriteError(absl::ResourceExhaustedError("disk full"));
  EXPECT_EQ(Put(engine, ColumnFamily::kData, "k", "v"), absl::ResourceExhaustedError("disk full"));
  EXPECT_EQ(Get(base, ColumnFamily::kData, "k"), std::nullopt);
}

TEST(FaultInjectionEngineTest, ServesReadsWhileFailingWrites) {
  MemEngine base;
  FaultInjectionEngine engine(&base);
  ASSERT_TRUE(Put(engine, ColumnFamily::kData, "k", "v").ok());
  engine.SetWriteError(absl::ResourceExhaustedError("disk full"));
  EXPECT_EQ(Get(engine, ColumnFamily::kData, "k"), "v");
  EXPECT_THAT(Scan(engine, ColumnFamily::kData, "", ""), ElementsAre(Pair("k", "v")));
}

TEST(FaultInjectionEngineTest, WritesWorkAgainAfterTheErrorIsCleared) {
  MemEngine base;
  FaultInjectionEngine engine(&base);
  engine.SetWriteError(absl::InternalError("io error"));
  ASSERT_FALSE(Put(engine, ColumnFamily::kData, "k", "v").ok());
  engine.ClearWriteError();
  ASSERT_TRUE(Put(engine, ColumnFamily::kData, "k", "v").ok());
  EXPECT_EQ(Get(base, ColumnFamily::kData, "k"), "v");
}

}  // namespace
}  // namespace quorumkv
