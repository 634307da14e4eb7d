// The Engine of kvnode: RocksDB with one column family per ColumnFamily.
//
// Crash semantics are RocksDB's with the write-ahead log always on: a Write
// that returned OK with sync=true survives a power loss (the WAL was
// fsynced; concurrent synced writers share one fsync, RocksDB's group
// commit); with sync=false it survives a crash of the process.
#ifndef QUORUMKV_STORAGE_ROCKSDB_ENGINE_H_
#define QUORUMKV_STORAGE_ROCKSDB_ENGINE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/engine.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
class Status;
}  // namespace rocksdb

namespace quorumkv {

struct RocksDbEngineOptions {
  std::string path;  // created if missing
  size_t block_cache_bytes = 64 << 20;
  size_t write_buffer_bytes = 32 << 20;
};

// Thread-safe.
class RocksDbEngine : public Engine {
 public:
  // UNAVAILABLE if another process holds the directory's lock.
  static absl::StatusOr<std::unique_ptr<RocksDbEngine>> Open(const RocksDbEngineOptions& options);
  ~RocksDbEngine() override;

  absl::StatusOr<std::optional<std::string>> Get(ColumnFamily cf, absl::string_view key) override;
  absl::Status Write(const WriteBatch& batch, const WriteOptions& options) override;
  absl::Status Scan(ColumnFamily cf, absl::string_view start, absl::string_view end,
                    Visitor visit) override;

  // Writes every column family's memtable to table files and compacts
  // them, waiting for both: the next open replays no log, and reads find
  // a settled tree, as after a long run. For bulk loads (kvbench --load
  // direct).
  absl::Status FlushAndCompact();

 private:
  RocksDbEngine() = default;
  rocksdb::ColumnFamilyHandle* Handle(ColumnFamily cf) const;

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // owned; index = ColumnFamily
};

// Maps a RocksDB status onto the canonical codes: no space -> RESOURCE_EXHAUSTED,
// corruption -> DATA_LOSS, lock held / busy -> UNAVAILABLE, else INTERNAL.
absl::Status FromRocksDb(const rocksdb::Status& status, absl::string_view what);

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_ROCKSDB_ENGINE_H_
