// A node's get path: ask every home replica (the local one directly; in a
// sloppy get, fallbacks with hints stand in for unhealthy ones) -> merge
// the replies -> reply after R answered -> repair the home replicas whose
// state lacked something of the merge.
#ifndef QUORUMKV_REPLICATION_GET_PATH_H_
#define QUORUMKV_REPLICATION_GET_PATH_H_

#include <functional>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "proto/kv.pb.h"
#include "replication/node_context.h"
#include "replication/object.h"

namespace quorumkv {

// Thread-safe. Does not own `node`, which must outlive it.
class GetPath {
 public:
  using Done = std::function<void(absl::Status, pb::GetResponse)>;

  explicit GetPath(NodeContext* node) : node_(node) {}

  // Coordinates a client get; reads the local store on the calling thread.
  // `done` runs exactly once, maybe on another thread; the response carries
  // the quorum metadata whatever the status. A key that R replicas do not
  // have is OK with found=false.
  void Get(const pb::GetRequest& request, absl::Time deadline, Done done);

 private:
  NodeContext* const node_;
};

// Fills found, siblings and context of a get response from a merged object.
// REQUIRES: response->key() is set (the context is bound to it).
void FillGetResponse(const Object& merged, pb::GetResponse* response);

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_GET_PATH_H_
