// What the engine tests share: write options, a RocksDB directory with its
// watermark, and Put/Get/Scan that fail the test on an error.
#ifndef QUORUMKV_TESTS_UNIT_STORAGE_ENGINE_SUPPORT_H_
#define QUORUMKV_TESTS_UNIT_STORAGE_ENGINE_SUPPORT_H_

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "storage/engine.h"
#include "storage/rocksdb_engine.h"
#include "tests/unit/storage/temp_dir.h"

namespace quorumkv::test_support {

using Entries = std::vector<std::pair<std::string, std::string>>;

inline constexpr WriteOptions kNoSync{.sync = false};
inline constexpr WriteOptions kSync{.sync = true};

// A database in `dir`, its write watermark beside it.
inline RocksDbEngineOptions OptionsIn(const TempDir& dir) {
  return RocksDbEngineOptions{.path = dir.path() + "/db", .watermark_dir = dir.path() + "/wm"};
}

inline absl::Status Put(Engine& engine, ColumnFamily cf, const std::string& key,
                        const std::string& value, WriteOptions options = kNoSync) {
  WriteBatch batch;
  batch.Put(cf, key, value);
  return engine.Write(batch, options);
}

inline std::optional<std::string> Get(Engine& engine, ColumnFamily cf, const std::string& key) {
  absl::StatusOr<std::optional<std::string>> value = engine.Get(cf, key);
  EXPECT_TRUE(value.ok()) << value.status();
  return value.ok() ? *value : std::nullopt;
}

inline Entries Scan(Engine& engine, ColumnFamily cf, const std::string& start,
                    const std::string& end, size_t limit = 1000) {
  Entries entries;
  const absl::Status status =
      engine.Scan(cf, start, end, [&](absl::string_view k, absl::string_view v) {
        entries.emplace_back(std::string(k), std::string(v));
        return entries.size() < limit;
      });
  EXPECT_TRUE(status.ok()) << status;
  return entries;
}

}  // namespace quorumkv::test_support

#endif  // QUORUMKV_TESTS_UNIT_STORAGE_ENGINE_SUPPORT_H_
