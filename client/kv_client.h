// client/: the library applications link to talk to a quorumkv cluster.
//
// KvClient sends each request to a node of the cluster (any node can
// coordinate) and moves on to the next endpoint when one cannot be reached:
// one pass over the endpoints in the order given, without backoff between
// them and without routing by key (the coordinator forwards a put to a home
// replica). A failed pass is the caller's to retry.
// Results are the API's protobuf messages; failures are absl::Status with
// the canonical codes of the store (UNAVAILABLE: quorum not met; DEADLINE_
// EXCEEDED: outcome unknown; INVALID_ARGUMENT: nothing written;
// FAILED_PRECONDITION: too many siblings), and carry the coordinator's
// QuorumInfo as a payload when there was one (see QuorumInfoOf).
//
// Reading and writing with contexts:
//   auto got = client->Get("cart/alice");
//   // merge LiveValues(*got) as the app sees fit, then:
//   client->Put("cart/alice", merged, {.context = got->context()});
#ifndef QUORUMKV_CLIENT_KV_CLIENT_H_
#define QUORUMKV_CLIENT_KV_CLIENT_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/kv.grpc.pb.h"

namespace quorumkv {

struct KvClientOptions {
  std::vector<std::string> endpoints;         // host:port of one or more nodes
  absl::Duration timeout = absl::Seconds(5);  // default per-request deadline
};

struct ReadOptions {
  uint32_t r = 0;  // 0: the cluster's default R
  bool strict = false;
  absl::Duration timeout = absl::ZeroDuration();  // 0: the client's default
};

struct WriteOptions {
  uint32_t w = 0;  // 0: the cluster's default W
  bool strict = false;
  std::string context;  // from a Get; empty for a blind write
  absl::Duration timeout = absl::ZeroDuration();
  // Delete only: with no context, write a tombstone that replaces nothing
  // instead of reading the key first.
  bool blind = false;
};

// Thread-safe.
class KvClient {
 public:
  // INVALID_ARGUMENT if no endpoint is given. Does not contact the cluster.
  static absl::StatusOr<std::unique_ptr<KvClient>> Connect(KvClientOptions options);

  // OK with found() false when R replicas do not have the key (or hold only
  // tombstones).
  absl::StatusOr<v1::GetResponse> Get(const std::string& key, const ReadOptions& options = {});
  // A put with options.context replaces the siblings that context covers;
  // without one it is a blind write, kept beside any value already there.
  absl::StatusOr<v1::PutResponse> Put(const std::string& key, const std::string& value,
                                      const WriteOptions& options = {});
  // Writes a tombstone. With options.context it replaces what that context
  // covers. Without one it first reads the key (same strictness and
  // deadline) and deletes what that read saw: values written concurrently
  // survive as siblings. options.blind skips the read: the tombstone then
  // replaces nothing and the key stays found.
  absl::StatusOr<v1::PutResponse> Delete(const std::string& key, const WriteOptions& options = {});
  absl::StatusOr<v1::StatusResponse> Status();
  absl::StatusOr<v1::RingResponse> Ring();
  // Anti-entropy on the first endpoint that answers (connect with one
  // endpoint to choose the node). Not retried elsewhere once sent.
  absl::StatusOr<v1::RepairResponse> Repair(const v1::RepairRequest& request);

 private:
  explicit KvClient(KvClientOptions options);
  // Calls `rpc` on each endpoint in turn until one is reached. Only a
  // request that provably never reached a coordinator moves on, unless it
  // is `idempotent`: a write that reached one and lost its answer must not
  // be applied twice.
  template <typename Response, typename Rpc>
  absl::StatusOr<Response> CallAnyNode(absl::Duration timeout, bool idempotent, Rpc rpc);

  const KvClientOptions options_;
  std::vector<std::unique_ptr<v1::KvService::Stub>> stubs_;
};

// The coordinator's quorum metadata attached to a failed request, if any.
std::optional<v1::QuorumInfo> QuorumInfoOf(const absl::Status& status);
// True when more than one sibling is live.
bool HasConflict(const v1::GetResponse& response);
// The values of the live siblings, in sibling order.
std::vector<std::string> LiveValues(const v1::GetResponse& response);

}  // namespace quorumkv

#endif  // QUORUMKV_CLIENT_KV_CLIENT_H_
