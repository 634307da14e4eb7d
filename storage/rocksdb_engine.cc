#include "storage/rocksdb_engine.h"

#include <fcntl.h>
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "replication/logging.h"
#include "replication/ring.h"

namespace quorumkv {
namespace {

rocksdb::Slice ToSlice(absl::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

// The id of this boot of the machine; empty if the kernel does not say.
std::string ReadBootId() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  return std::string(absl::StripAsciiWhitespace(id));
}

// The watermark file of the RocksDB directory `db_path`, in `dir`: named
// after a stable hash of its canonical path and of the database's identity
// (an older copy of the directory has the same; a new database another),
// so that databases at one path in different containers sharing `dir` do
// not share one.
std::string WatermarkPath(const std::string& dir, const std::string& db_path,
                          const std::string& identity) {
  std::error_code ec;
  std::filesystem::path canonical = std::filesystem::weakly_canonical(db_path, ec);
  if (ec) canonical = std::filesystem::absolute(db_path, ec).lexically_normal();
  return absl::StrFormat("%s/wal-%016x", dir,
                         StableHash(absl::StrCat(canonical.string(), "\n", identity)));
}

// "<boot id> <sequence number>\n", of one width, so that each rewrite
// covers the last one whole.
std::string WatermarkRecord(absl::string_view boot, uint64_t sequence) {
  return absl::StrFormat("%-36s %020u\n", boot, sequence);
}

struct Watermark {
  std::string boot;
  uint64_t sequence = 0;
};

std::optional<Watermark> ReadWatermark(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream stream;
  stream << in.rdbuf();
  const std::string text = stream.str();
  std::vector<absl::string_view> parts =
      absl::StrSplit(absl::StripAsciiWhitespace(text), ' ', absl::SkipEmpty());
  Watermark mark;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[1], &mark.sequence)) return std::nullopt;
  mark.boot = std::string(parts[0]);
  return mark;
}

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
  if (status.IsCorruption()) return absl::DataLossError(message);  // logged: logged_engine.h
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
  engine->StartWatermark(options);
  return engine;
}

void RocksDbEngine::StartWatermark(const RocksDbEngineOptions& options) {
  using Verdict = RecoveryReport::Verdict;
  const uint64_t recovered = db_->GetLatestSequenceNumber();
  boot_id_ = ReadBootId();
  if (options.watermark_dir.empty()) {
    recovery_ = {Verdict::kUnknown, "no write watermark is kept (no watermark directory)"};
    return;
  }
  std::error_code ec;
  std::filesystem::create_directories(options.watermark_dir, ec);
  std::string identity;
  db_->GetDbIdentity(identity).PermitUncheckedError();
  const std::string path = WatermarkPath(options.watermark_dir, options.path, identity);
  const std::optional<Watermark> last = ReadWatermark(path);
  if (!last) {
    recovery_ = {Verdict::kUnknown, absl::StrCat("no write watermark at ", path,
                                                 " (a first open, or it was cleared)")};
  } else if (boot_id_.empty() || last->boot != boot_id_) {
    recovery_ = {Verdict::kUnknown, "the machine restarted since the last write"};
  } else if (recovered < last->sequence) {
    recovery_ = {Verdict::kLost,
                 absl::StrCat("RocksDB recovered writes up to sequence number ", recovered,
                              " of the ", last->sequence,
                              " acknowledged (a log that lost its tail, or an older copy of the "
                              "directory)")};
  } else {
    recovery_ = {Verdict::kComplete, ""};
  }
  absl::MutexLock lock(&watermark_mu_);
  watermark_fd_ = boot_id_.empty() ? -1 : open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (watermark_fd_ < 0) {
    // Nothing can vouch for the next open; a record left from before must
    // not either (it would stay frozen below what this run acknowledges).
    unlink(path.c_str());
    recovery_ = {Verdict::kUnknown, absl::StrCat("cannot keep a write watermark at ", path)};
    LogEvent(LogLevel::kError, "watermark_unavailable",
             {{"path", path}, {"msg", "an unclean restart will be taken as a loss"}});
    return;
  }
  // The record is left as it is until the first write of this run, so that
  // a loss found now stays on record until the store has recorded it (its
  // first write does): an open that dies before that finds it again.
  watermark_ = recovered;
}

void RocksDbEngine::AdvanceWatermark() {
  const uint64_t sequence = db_->GetLatestSequenceNumber();
  absl::MutexLock lock(&watermark_mu_);
  if (watermark_fd_ < 0 || sequence <= watermark_) return;
  const std::string record = WatermarkRecord(boot_id_, sequence);
  const ssize_t written = pwrite(watermark_fd_, record.data(), record.size(), 0);
  if (written == static_cast<ssize_t>(record.size())) {
    watermark_ = sequence;
    return;
  }
  const std::string error = written < 0 ? strerror(errno) : "short write";
  // A watermark below what was acknowledged would vouch for a recovery that
  // lost writes: stop keeping one.
  LogEvent(LogLevel::kWarning, "watermark_unavailable",
           {{"error", error}, {"msg", "an unclean restart will be taken as a loss"}});
  if (ftruncate(watermark_fd_, 0) != 0) {
    LogEvent(LogLevel::kError, "watermark_not_cleared", {{"error", strerror(errno)}});
  }
  close(watermark_fd_);
  watermark_fd_ = -1;
}

RocksDbEngine::~RocksDbEngine() {
  {
    absl::MutexLock lock(&watermark_mu_);
    if (watermark_fd_ >= 0) close(watermark_fd_);
    watermark_fd_ = -1;
  }
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
  const absl::Time start = absl::Now();
  absl::Status written = FromRocksDb(db_->Write(wo, &rb), "write");
  if (options.sync && synced_write_observer_) {
    synced_write_observer_(batch.ops().size(), absl::Now() - start);
  }
  // Before the write is acknowledged (this returns): a crash after it finds
  // the watermark at or above it.
  if (written.ok()) AdvanceWatermark();
  return written;
}

std::map<std::string, uint64_t> RocksDbEngine::Properties() const {
  std::map<std::string, uint64_t> properties;
  uint64_t value = 0;
  // Sizes are per column family: summed over them.
  for (const char* name :
       {"rocksdb.total-sst-files-size", "rocksdb.estimate-pending-compaction-bytes",
        "rocksdb.cur-size-all-mem-tables"}) {
    if (db_->GetAggregatedIntProperty(name, &value)) properties[name] = value;
  }
  // These are of the whole database (a sum would count them once per
  // column family).
  for (const char* name : {"rocksdb.num-running-compactions", "rocksdb.actual-delayed-write-rate",
                           "rocksdb.is-write-stopped"}) {
    if (db_->GetIntProperty(name, &value)) properties[name] = value;
  }
  return properties;
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
