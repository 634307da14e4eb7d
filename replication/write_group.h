// Group commit of a node's writes to its replicas: the coordinator's own
// write of each put it coordinates, and the replica writes other nodes
// send it. Each must be durable before it is acked; one synced storage
// write per put made the disk's fsync rate (and a blocked thread per put)
// the limit, and a synced write per replica batch beside the groups cost
// an fsync more. Writes submitted while a group is being written wait in a
// queue and go together, in one ReplicaStore::UpdateBatch, as soon as it is
// done: no write waits on a timer, and under load one fsync carries many.
//
// The submitter that finds no group being written starts the writer: it
// writes the queue, group after group, until it is empty, on a thread from
// `run_blocking` (or on the submitter's own thread). Other submitters
// return at once; every `done` runs on the writer's thread.
#ifndef QUORUMKV_REPLICATION_WRITE_GROUP_H_
#define QUORUMKV_REPLICATION_WRITE_GROUP_H_

#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "replication/object.h"
#include "replication/replica_store.h"

namespace quorumkv {

// Thread-safe. Does not own `store`.
class WriteGroup {
 public:
  // Writes per group. The queue is bounded by the node's client requests
  // and replica write batches in flight (server/services.h).
  static constexpr size_t kMaxGroup = 64;

  using Mutate = std::function<absl::StatusOr<Object>(const std::optional<Object>& current)>;
  using Done = std::function<void(absl::StatusOr<Object> stored)>;

  // Runs `work` on a thread that may block on disk; false if it cannot.
  using RunBlocking = std::function<bool(std::function<void()> work)>;

  // With `run_blocking` unset, the submitter that starts the writer is it.
  WriteGroup(ReplicaStore* store, RunBlocking run_blocking)
      : store_(store), run_blocking_(std::move(run_blocking)) {}

  // Updates `key` with `mutate` as ReplicaStore::Update would, then calls
  // `done` with the result, on the writer's thread (maybe this one).
  void Submit(std::string key, Mutate mutate, Done done);

 private:
  struct Pending {
    std::string key;
    Mutate mutate;
    Done done;
  };

  // Takes the next group off the queue; empty (and writing_ cleared) when
  // there is none.
  std::vector<Pending> NextGroup();
  // The writer: writes group after group until the queue is empty.
  void WriteAll();
  void Write(std::vector<Pending> group);

  ReplicaStore* const store_;
  const RunBlocking run_blocking_;
  absl::Mutex mu_;
  std::deque<Pending> queue_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_WRITE_GROUP_H_
