// The Engine of kvnode: RocksDB with one column family per ColumnFamily.
//
// Crash semantics are RocksDB's with the write-ahead log always on: a Write
// that returned OK with sync=true survives a power loss (the WAL was
// fsynced; concurrent synced writers share one fsync, RocksDB's group
// commit); with sync=false it survives a crash of the process.
//
// RocksDB's recovery drops a log's damaged tail quietly (point-in-time
// recovery), and opens an older copy of a directory as readily as the
// latest. So the engine keeps a write watermark outside the data directory,
// in a directory that lasts until the machine restarts (/dev/shm by
// default): the machine's boot id and the sequence number of the latest
// write it acknowledged, rewritten (not synced) after every write — first
// after the first write of a run, so that an open that dies before writing
// leaves the last record for the next. At open, a watermark of this boot
// above the recovered sequence number means acknowledged writes are missing
// (kLost); at or below it, every one was recovered (kComplete); no
// watermark of this boot (a machine restart, a first open, a directory it
// cannot write) leaves it kUnknown.
#ifndef QUORUMKV_STORAGE_ROCKSDB_ENGINE_H_
#define QUORUMKV_STORAGE_ROCKSDB_ENGINE_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
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
  // Where the write watermark of `path` is kept (created if missing): a
  // directory outside `path` that a machine restart clears, or at least
  // outlives the process. Empty: none is kept, and LastRecovery() is
  // kUnknown.
  std::string watermark_dir = kDefaultWatermarkDir;
  static constexpr char kDefaultWatermarkDir[] = "/dev/shm/quorumkv";
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
  RecoveryReport LastRecovery() const override { return recovery_; }

  // RocksDB's integer properties the node's metrics show (sizes, pending
  // compaction, stalls), summed over the column families, by property name.
  std::map<std::string, uint64_t> Properties() const;
  // Called after each synced write with its number of entries and how long
  // it took (the node's metrics). Set before writes begin.
  void SetSyncedWriteObserver(std::function<void(size_t, absl::Duration)> observer) {
    synced_write_observer_ = std::move(observer);
  }

  // Writes every column family's memtable to table files and compacts
  // them, waiting for both: the next open replays no log, and reads find
  // a settled tree, as after a long run. For bulk loads (kvbench --load
  // direct).
  absl::Status FlushAndCompact();

 private:
  RocksDbEngine() = default;
  rocksdb::ColumnFamilyHandle* Handle(ColumnFamily cf) const;

  // Reads the watermark of the last run (if any) into recovery_, then
  // starts this run's; a failure leaves recovery_ kUnknown and no
  // watermark kept.
  void StartWatermark(const RocksDbEngineOptions& options);
  // Raises the watermark to the latest sequence number, after a write.
  void AdvanceWatermark();

  std::unique_ptr<rocksdb::DB> db_;
  std::function<void(size_t, absl::Duration)> synced_write_observer_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // owned; index = ColumnFamily
  RecoveryReport recovery_;
  std::string boot_id_;
  absl::Mutex watermark_mu_;
  int watermark_fd_ ABSL_GUARDED_BY(watermark_mu_) = -1;
  uint64_t watermark_ ABSL_GUARDED_BY(watermark_mu_) = 0;
};

// Maps a RocksDB status onto the canonical codes: no space -> RESOURCE_EXHAUSTED,
// corruption -> DATA_LOSS, lock held / busy -> UNAVAILABLE, else INTERNAL.
absl::Status FromRocksDb(const rocksdb::Status& status, absl::string_view what);

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_ROCKSDB_ENGINE_H_
