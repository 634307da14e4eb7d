// client/: the library applications link to talk to a quorumkv cluster.
//
// Any node can coordinate a request. KvClient sends each one, in order:
//   - with routing (route_by_key, the default with several endpoints), to
//     the key's home replicas first, in ring order (as Cassandra's
//     token-aware drivers do: no forwarding hop), then to the other nodes;
//     the client learns the ring and which endpoint is which node by asking
//     every endpoint once (Ring), and asks again for those it could not
//     reach, at most every 5 s;
//   - without, to the endpoints in the order given;
// skipping nodes whose circuit breaker is open (circuit_breaker.h: 3
// failures in a row open it for 5 s), and moving to the next node only
// when that is safe: a read when a node cannot be reached or sheds load; a
// write only when it provably never reached a coordinator (no connection,
// node starting, shed at admission), unless it carries an idempotency key
// (every put and delete does, see WriteOptions): a copy applied twice then
// reads as one write (kv.proto). After a pass over every node it
// waits with full-jitter exponential backoff (backoff.h: base 100 ms, cap
// 30 s) and tries again, until the request's absolute deadline, which also
// travels to the coordinator and on to the replicas. A node whose
// connection is down gets at most 1 s (or half the time left) to connect
// while other nodes could take the request.
//
// Hedged reads (hedge_policy.h): once the client has seen enough reads, a
// read whose first node has not answered within the p95 of its recent
// latencies goes also to the next node, within a budget of 10% extra
// reads; the first success wins and the other call is cancelled. One slow
// coordinator then does not set the read's latency.
//
// Sessions (session.h): pass a Session to Get/Put/Delete and the read is
// held to read-your-writes and monotonic reads (and, with max_staleness,
// bounded staleness), escalating as session_read.h describes; a put or
// delete that is acknowledged joins the session.
//
// Results are the API's protobuf messages; failures are absl::Status with
// the canonical codes of the store (UNAVAILABLE: quorum not met, or no node
// reachable, also when the deadline passed between attempts that were
// never sent; DEADLINE_EXCEEDED: outcome unknown — also for a put or delete
// whose connection to a coordinator dropped with the call in flight and
// that no later attempt completed; with "no node reachable", a hint when
// TLS is what failed (security/tls_credentials.h); INVALID_ARGUMENT: nothing
// written; FAILED_PRECONDITION: too many siblings, or a session guarantee
// not satisfiable), and carry the coordinator's QuorumInfo as a payload
// when there was one (see QuorumInfoOf).
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

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/backoff.h"
#include "client/circuit_breaker.h"
#include "client/hedge_policy.h"
#include "client/session.h"
#include "proto/kv.grpc.pb.h"
#include "replication/clock.h"
#include "replication/ring.h"
#include "security/tls_files.h"

namespace quorumkv {

struct KvClientOptions {
  std::vector<std::string> endpoints;         // host:port of one or more nodes
  absl::Duration timeout = absl::Seconds(5);  // default per-request deadline
  // Send each key's requests to its home replicas first (see above).
  bool route_by_key = true;
  BackoffOptions backoff;
  CircuitBreakerOptions breaker;
  HedgeOptions hedge;
  Clock* clock = nullptr;  // the breakers' clock; null: the system clock
  uint64_t seed = 0;       // of the backoff jitter (only); 0: from the system
  // Mutual TLS (security/tls_files.h): the cluster's CA, a client
  // certificate ("client:<name>") and its key. Empty: plaintext.
  TlsFiles tls;
};

struct ReadOptions {
  uint32_t r = 0;  // 0: the cluster's default R
  bool strict = false;
  absl::Duration timeout = absl::ZeroDuration();  // 0: the client's default
  // In a session only: the reply must reflect every write acknowledged at
  // least this long before the read began (bounded staleness).
  std::optional<absl::Duration> max_staleness;
  // In a session only: over max_staleness, return the reply flagged
  // session.stale instead of failing.
  bool allow_stale = false;
};

struct WriteOptions {
  uint32_t w = 0;  // 0: the cluster's default W
  bool strict = false;
  std::string context;  // from a Get; empty for a blind write
  absl::Duration timeout = absl::ZeroDuration();
  // Delete only: with no context, write a tombstone that replaces nothing
  // instead of reading the key first.
  bool blind = false;
  // Names this write (up to 64 bytes); empty: the client draws 16 random
  // bytes (hex). Give the same key when retrying a write whose outcome was
  // unknown (DEADLINE_EXCEEDED): a copy applied twice reads as one.
  std::string idempotency_key;
};

// Thread-safe.
class KvClient {
 public:
  // INVALID_ARGUMENT if no endpoint is given, or naming the TLS file that
  // is missing, unreadable, expired or not signed by the CA. Does not
  // contact the cluster.
  static absl::StatusOr<std::unique_ptr<KvClient>> Connect(KvClientOptions options);
  ~KvClient();

  // OK with found() false when R replicas do not have the key (or hold only
  // tombstones). With a session: FAILED_PRECONDITION "read-your-writes not
  // satisfiable: ..." (or monotonic reads, bounded staleness) when no read
  // of the escalation satisfied it; the reply taken joins the session.
  absl::StatusOr<v1::GetResponse> Get(const std::string& key, const ReadOptions& options = {},
                                      Session* session = nullptr);
  // A put with options.context replaces the siblings that context covers;
  // without one it is a blind write, kept beside any value already there.
  absl::StatusOr<v1::PutResponse> Put(const std::string& key, const std::string& value,
                                      const WriteOptions& options = {}, Session* session = nullptr);
  // Writes a tombstone. With options.context it replaces what that context
  // covers. Without one it first reads the key (same strictness and
  // deadline) and deletes what that read saw: values written concurrently
  // survive as siblings. options.blind skips the read: the tombstone then
  // replaces nothing and the key stays found.
  // With a session, that read is a session read.
  absl::StatusOr<v1::PutResponse> Delete(const std::string& key, const WriteOptions& options = {},
                                         Session* session = nullptr);
  absl::StatusOr<v1::StatusResponse> Status();
  absl::StatusOr<v1::RingResponse> Ring();

  // The state of each node's circuit breaker, "closed", "open" or
  // "half-open", by endpoint.
  std::vector<std::pair<std::string, std::string>> BreakerStates();
  // Reads sent to a second node because the first was slow, so far.
  uint64_t hedged_reads() { return hedge_.hedges_sent(); }
  // Anti-entropy on the first endpoint that answers (connect with one
  // endpoint to choose the node). Not retried elsewhere once sent.
  absl::StatusOr<v1::RepairResponse> Repair(const v1::RepairRequest& request);

  // `given`, else a fresh random idempotency key (128 bits, hex): what a
  // put or delete carries when WriteOptions names none. Thread-safe.
  static std::string IdempotencyKey(const std::string& given);

 private:
  struct Node;  // an endpoint: its stub, breaker, and the node id behind it
  struct Routing {
    std::optional<::quorumkv::Ring> ring;
    std::vector<std::string> node_of_endpoint;  // "" until learned
    absl::Time last_refresh = absl::InfinitePast();
  };

  KvClient(KvClientOptions options, std::optional<TlsMaterial> tls);

  // The endpoints to try for `key`, in order (see above); every endpoint.
  std::vector<size_t> OrderFor(const std::string& key, absl::Time deadline);
  // The endpoint of node `id`, if known (after Resolve).
  std::optional<size_t> EndpointOfNode(const std::string& id, absl::Time deadline);
  // Learns the ring and the node behind each endpoint not yet known, at
  // most every 5 s.
  void Resolve(absl::Time deadline);
  // The key's home replicas (empty if the ring is unknown).
  std::vector<std::string> HomesOf(const std::string& key, absl::Time deadline);

  // Calls `rpc` on the endpoints of `order` in turn until one answers,
  // moving on only when safe (see above), with backoff between passes,
  // until `deadline` or `max_passes` passes. `idempotent`: a request
  // applied twice does no harm.
  template <typename Response, typename Rpc>
  absl::StatusOr<Response> CallNodes(const std::vector<size_t>& order, absl::Time deadline,
                                     bool idempotent, Rpc rpc, uint32_t max_passes = UINT32_MAX);
  absl::StatusOr<v1::GetResponse> GetOnce(const std::string& key, uint32_t r, bool strict,
                                          const std::vector<size_t>& order, absl::Time deadline,
                                          uint32_t max_passes = UINT32_MAX);
  // `request` to order[0] and, after `delay` without an answer, to the next
  // node that may take it; the first success wins. nullopt when neither
  // succeeded and moving on is safe: the caller goes on without hedging,
  // to the endpoints not in *tried.
  std::optional<absl::StatusOr<v1::GetResponse>> HedgedGet(const v1::GetRequest& request,
                                                           const std::vector<size_t>& order,
                                                           absl::Time deadline,
                                                           absl::Duration delay,
                                                           std::vector<size_t>* tried);
  absl::StatusOr<v1::GetResponse> SessionGet(const std::string& key, const ReadOptions& options,
                                             Session* session, absl::Time deadline);
  absl::Time DeadlineOf(absl::Duration timeout) const;
  // `result`, once an acknowledged write is recorded in `session` (if any).
  static absl::StatusOr<v1::PutResponse> Recorded(const std::string& key, Session* session,
                                                  absl::StatusOr<v1::PutResponse> result);
  std::vector<size_t> AllEndpoints() const;
  // False if `node`'s connection is still being made at the end of a
  // short budget while `others_left` could take the request instead (a
  // blackholed node then costs that budget, not the request's deadline), or
  // at the deadline for the last node: a call sent onto a connection that
  // never came would end at the deadline looking as if it may have been
  // applied. True once connected, or once the attempt failed (refused, a
  // TLS handshake refused): the call then fails at once with the reason.
  bool Connected(Node& node, absl::Time deadline, bool others_left);

  const KvClientOptions options_;
  std::optional<TlsMaterial> tls_;  // loaded from options_.tls
  std::unique_ptr<Clock> own_clock_;
  Clock* clock_;
  std::vector<std::unique_ptr<Node>> nodes_;
  HedgePolicy hedge_;
  absl::Mutex mu_;
  Routing routing_ ABSL_GUARDED_BY(mu_);
  std::mt19937_64 random_ ABSL_GUARDED_BY(mu_);
};

// The coordinator's quorum metadata attached to a failed request, if any.
std::optional<v1::QuorumInfo> QuorumInfoOf(const absl::Status& status);
// True when more than one sibling is live.
bool HasConflict(const v1::GetResponse& response);
// The values of the live siblings, in sibling order.
std::vector<std::string> LiveValues(const v1::GetResponse& response);

}  // namespace quorumkv

#endif  // QUORUMKV_CLIENT_KV_CLIENT_H_
