// A node's replicas: the versioned objects it holds and the counter its
// dots come from. storage/ implements it on an Engine (RocksDB or memory).
#ifndef QUORUMKV_REPLICATION_REPLICA_STORE_H_
#define QUORUMKV_REPLICATION_REPLICA_STORE_H_

#include <optional>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "replication/object.h"

namespace quorumkv {

// Implementations are thread-safe. Calls may block on disk.
class ReplicaStore {
 public:
  // Computes the new state of a key from its current one (nullopt if the key
  // has none). An error aborts the update: nothing is written.
  using Mutation = absl::FunctionRef<absl::StatusOr<Object>(const std::optional<Object>& current)>;

  virtual ~ReplicaStore() = default;

  // The stored object of `key`, or nullopt. DATA_LOSS if it is corrupt.
  virtual absl::StatusOr<std::optional<Object>> Read(absl::string_view key) = 0;

  // Reads `key`, applies `mutate` and stores the result, atomically with
  // respect to other Updates of the same key. Returns the stored object.
  // After OK the result survives a crash of the process (and, with
  // sync_writes, of the machine). `mutate` may call IssueDot.
  virtual absl::StatusOr<Object> Update(absl::string_view key, Mutation mutate) = 0;

  // A dot for a new write coordinated by this node. Counters come from one
  // node-wide sequence, persisted in leased blocks, so a dot is never issued
  // twice, even across crashes. Thread-safe.
  virtual absl::StatusOr<Dot> IssueDot() = 0;

  // This node's actor id, "<node id>.<epoch>"; a new epoch when the node
  // starts on an empty data directory.
  virtual const std::string& actor() const = 0;
};

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_REPLICA_STORE_H_
