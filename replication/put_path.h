// A node's put path: validate (nothing written on error) -> if this node is
// not a home replica of the key, forward to one -> issue a dot and apply the
// write to the local replica in one atomic, durable step (or, if the
// context names writes this replica has not seen, first ask the other home
// replicas) -> send the new object to the other home replicas, which merge
// it (in a sloppy put, a healthy fallback stands in for an unhealthy or
// failing home and keeps a hint) -> reply after W acks.
#ifndef QUORUMKV_REPLICATION_PUT_PATH_H_
#define QUORUMKV_REPLICATION_PUT_PATH_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/kv.pb.h"
#include "proto/replica.pb.h"
#include "replication/node_context.h"
#include "replication/version_vector.h"

namespace quorumkv {

// Thread-safe. Does not own `node`, which must outlive it.
class PutPath {
 public:
  using Done = std::function<void(absl::Status, pb::PutResponse)>;

  explicit PutPath(NodeContext* node) : node_(node) {}

  // Coordinates a client put, or a delete when request.tombstone(). Blocks
  // on the local store only without options.run_blocking (or when it
  // refuses work). `done` runs exactly once, maybe on another thread; the
  // response carries the quorum metadata whatever the status.
  void Put(const pb::PutRequest& request, absl::Time deadline, Done done);
  // Coordinates a put forwarded by a node that is not a home replica.
  // Same threading as Put.
  void HandleCoordinatePut(const pb::CoordinatePutRequest& request, absl::Time deadline,
                           std::function<void(pb::CoordinatePutResponse)> done);

 private:
  struct LocalWrite;
  struct ForwardState;
  struct CoordinatedPut;

  void CoordinatePut(const pb::PutRequest& request, absl::Time deadline, bool forwarded, Done done);
  // Writes `put` to this node's replica, then sends it to the other home
  // replicas and answers after W acks; or, if its context names writes this
  // replica has not seen, first asks the other home replicas.
  void WriteAndReplicate(std::shared_ptr<CoordinatedPut> put);
  void CheckContextThenWrite(std::shared_ptr<CoordinatedPut> put);
  // Why a put whose context names `unseen` (writes neither this replica nor
  // the homes it asked have seen) cannot be written: INVALID_ARGUMENT for a
  // context this cluster did not issue, UNAVAILABLE when it could not be
  // checked, ABORTED when the other home replicas are still to be asked.
  absl::Status CheckUnseen(const std::vector<Dot>& unseen, const CoordinatedPut& put) const;
  // The coordinator's own write of a put, in the next write group; `done`
  // runs once it is durable (or failed, writing nothing: also when the
  // group is written after the put's deadline).
  void ApplyLocalWrite(std::shared_ptr<const CoordinatedPut> put,
                       std::function<void(absl::StatusOr<LocalWrite>)> done);
  void ForwardPut(std::shared_ptr<ForwardState> state);
  // The home replicas a forwarded put tries, healthy ones first.
  std::vector<std::string> ForwardCandidates(const std::vector<std::string>& home) const;

  NodeContext* const node_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_PUT_PATH_H_
