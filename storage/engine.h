// storage/: where bytes meet the disk. An Engine is an ordered key-value
// store with column families and atomic batches; RocksDbEngine is the real
// one, MemEngine an in-memory one that can lose what was not synced (for
// tests and the simulator), FaultInjectionEngine wraps either to fail
// writes on command. EngineReplicaStore builds the replica store on top.
#ifndef QUORUMKV_STORAGE_ENGINE_H_
#define QUORUMKV_STORAGE_ENGINE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace quorumkv {

enum class ColumnFamily {
  kData,   // replicas: user key -> encoded Object
  kHints,  // hinted handoff (sloppy quorum)
  kMeta,   // node metadata: actor id, dot lease
};
inline constexpr int kColumnFamilyCount = 3;

// An atomic group of writes. A value type.
class WriteBatch {
 public:
  struct Op {
    ColumnFamily cf;
    bool is_delete = false;
    std::string key;
    std::string value;
  };

  void Put(ColumnFamily cf, absl::string_view key, absl::string_view value) {
    ops_.push_back(Op{cf, false, std::string(key), std::string(value)});
  }
  void Delete(ColumnFamily cf, absl::string_view key) {
    ops_.push_back(Op{cf, true, std::string(key), std::string()});
  }
  const std::vector<Op>& ops() const { return ops_; }
  bool empty() const { return ops_.empty(); }

 private:
  std::vector<Op> ops_;
};

// What an engine established, when it opened, about the writes it had
// acknowledged before: whether every one of them was recovered.
struct RecoveryReport {
  enum class Verdict {
    kComplete,  // every write acknowledged before the last stop is there
    kLost,      // some are not (a log that lost its tail, an older copy)
    kUnknown,   // the engine cannot tell
  };
  Verdict verdict = Verdict::kUnknown;
  std::string detail;  // what the engine found, for kLost and kUnknown
};

struct WriteOptions {
  // true: when Write returns OK the batch survives a power loss (fsync).
  // false: it survives a crash of the process, not of the machine.
  bool sync = true;
};

// Thread-safe. Crash semantics: a batch is applied entirely or not at all;
// after Write returns OK it is durable as WriteOptions::sync says; a write
// that returned an error may or may not be applied after a crash.
class Engine {
 public:
  // Visits one entry of a Scan; returns false to stop.
  using Visitor = absl::FunctionRef<bool(absl::string_view key, absl::string_view value)>;

  virtual ~Engine() = default;

  // The value of `key`, or nullopt if absent.
  virtual absl::StatusOr<std::optional<std::string>> Get(ColumnFamily cf,
                                                         absl::string_view key) = 0;
  // RESOURCE_EXHAUSTED when the disk is full; the engine keeps serving reads.
  virtual absl::Status Write(const WriteBatch& batch, const WriteOptions& options) = 0;
  // Visits the entries with start <= key < end in key order; an empty `end`
  // means no upper bound.
  virtual absl::Status Scan(ColumnFamily cf, absl::string_view start, absl::string_view end,
                            Visitor visit) = 0;
  // What the engine knows of the recovery of its last open (kUnknown unless
  // it keeps a record of what it acknowledged).
  virtual RecoveryReport LastRecovery() const {
    return RecoveryReport{RecoveryReport::Verdict::kUnknown,
                          "this engine keeps no record of what it acknowledged"};
  }
};

const char* ColumnFamilyName(ColumnFamily cf);

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_ENGINE_H_
