#include "storage/rocksdb_engine.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include "absl/strings/str_cat.h"

namespace quorumkv {
namespace {

rocksdb::Slice ToSlice(absl::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

rocksdb::ColumnFamilyOptions CfOptions(const RocksDbEngineOptions& options) {
  rocksdb::ColumnFamilyOptions cf;
  cf.write_buffer_size = options.write_buffer_bytes;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return cf;
}

}  // namespace

absl::Status FromRocksDb(const rocksdb::Status& status, absl::string_view what) {
  if (status.ok()) return absl::OkStatus();
  const std::string message = absl::StrCat(what, ": ", status.ToString());
  if (status.IsNoSpace()) return absl::ResourceExhaustedError(absl::StrCat("disk full: ", message));
  if (status.IsCorruption()) return absl::DataLossError(message);
  if (status.IsBusy() || status.IsTryAgain() || status.IsTimedOut()) {
    return absl::UnavailableError(message);
  }
  if (status.IsIOError() && status.ToString().find("lock") != std::string::npos) {
    return absl::UnavailableError(
        absl::StrCat(message, " (is another kvnode using this data directory?)"));
  }
  return absl::InternalError(message);
}

absl::StatusOr<std::unique_ptr<RocksDbEngine>> RocksDbEngine::Open(
    const RocksDbEngineOptions& options) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  // Table files are read through mmap: a block-cache miss is then a memory
  // access instead of a pread system call, which cost kvbench's get 30% of
  // its CPU at 100k keys (docs/performance.md). Writes are unchanged.
  db_options.allow_mmap_reads = true;
  const rocksdb::ColumnFamilyOptions cf_options = CfOptions(options);
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {
      {rocksdb::kDefaultColumnFamilyName, cf_options}};
  for (ColumnFamily cf : {ColumnFamily::kData, ColumnFamily::kHints, ColumnFamily::kMeta}) {
    descriptors.emplace_back(ColumnFamilyName(cf), cf_options);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.path, descriptors, &handles, &db);
  if (!s.ok()) return FromRocksDb(s, absl::StrCat("opening RocksDB at ", options.path));
  std::unique_ptr<RocksDbEngine> engine(new RocksDbEngine());
  engine->db_.reset(db);
  // handles[0] is the default family, which quorumkv does not use.
  engine->handles_ = std::move(handles);
  return engine;
}

RocksDbEngine::~RocksDbEngine() {
  if (!db_) return;
  for (rocksdb::ColumnFamilyHandle* h : handles_) db_->DestroyColumnFamilyHandle(h);
  db_->Close().PermitUncheckedError();
}

rocksdb::ColumnFamilyHandle* RocksDbEngine::Handle(ColumnFamily cf) const {
  return handles_[static_cast<int>(cf) + 1];
}

absl::StatusOr<std::optional<std::string>> RocksDbEngine::Get(ColumnFamily cf,
                                                              absl::string_view key) {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), Handle(cf), ToSlice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocksDb(s, "read");
  return std::optional<std::string>(std::move(value));
}

absl::Status RocksDbEngine::Write(const WriteBatch& batch, const WriteOptions& options) {
  rocksdb::WriteBatch rb;
  for (const WriteBatch::Op& op : batch.ops()) {
    rocksdb::Status s = op.is_delete ? rb.Delete(Handle(op.cf), ToSlice(op.key))
                                     : rb.Put(Handle(op.cf), ToSlice(op.key), ToSlice(op.value));
    if (!s.ok()) return FromRocksDb(s, "building a write batch");
  }
  rocksdb::WriteOptions wo;
  wo.sync = options.sync;
  return FromRocksDb(db_->Write(wo, &rb), "write");
}

absl::Status RocksDbEngine::Scan(ColumnFamily cf, absl::string_view start, absl::string_view end,
                                 Visitor visit) {
  rocksdb::ReadOptions ro;
  rocksdb::Slice upper = ToSlice(end);
  if (!end.empty()) ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, Handle(cf)));
  for (it->Seek(ToSlice(start)); it->Valid(); it->Next()) {
    const rocksdb::Slice k = it->key();
    const rocksdb::Slice v = it->value();
    if (!visit(absl::string_view(k.data(), k.size()), absl::string_view(v.data(), v.size()))) {
      break;
    }
  }
  return FromRocksDb(it->status(), "scan");
}

absl::Status RocksDbEngine::FlushAndCompact() {
  rocksdb::FlushOptions flush;
  flush.wait = true;
  if (absl::Status s = FromRocksDb(db_->Flush(flush, handles_), "flush"); !s.ok()) return s;
  for (rocksdb::ColumnFamilyHandle* h : handles_) {
    absl::Status s = FromRocksDb(
        db_->CompactRange(rocksdb::CompactRangeOptions(), h, nullptr, nullptr), "compaction");
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace quorumkv
