#include "client/kv_client.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <type_traits>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/kv_client_internal.h"
#include "client/session_read.h"
#include "security/tls_credentials.h"

namespace quorumkv {
namespace {

// Channel limits: a get may return up to a few times max_object_bytes of
// siblings.
constexpr int kMaxMessageBytes = 512 << 20;
// The longest a node whose connection is not up may take to connect while
// other nodes could take the request (at most half the time left).
constexpr absl::Duration kConnectBudget = absl::Seconds(1);

class SystemClock : public Clock {
 public:
  absl::Time Now() override { return absl::Now(); }
  absl::Time Steady() override {
    return absl::FromUnixNanos(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
  }
};

}  // namespace

bool KvClient::Connected(Node& node, absl::Time deadline, bool others_left) {
  const absl::Time now = absl::Now();
  const absl::Time budget =
      others_left ? std::min(deadline, now + std::min(kConnectBudget, (deadline - now) / 2))
                  : deadline;
  grpc_connectivity_state state = node.channel->GetState(/*try_to_connect=*/true);
  while (state == GRPC_CHANNEL_IDLE || state == GRPC_CHANNEL_CONNECTING) {
    if (!node.channel->WaitForStateChange(state, absl::ToChronoTime(budget))) return false;
    state = node.channel->GetState(/*try_to_connect=*/true);
  }
  return true;  // ready; or failed, and the call fails at once with the reason
}

absl::StatusOr<std::unique_ptr<KvClient>> KvClient::Connect(KvClientOptions options) {
  if (options.endpoints.empty()) {
    return absl::InvalidArgumentError("no cluster endpoints given (host:port of any node)");
  }
  std::optional<TlsMaterial> tls;
  if (!options.tls.empty()) {
    absl::StatusOr<TlsMaterial> material = LoadTlsMaterial(options.tls);
    if (!material.ok()) return material.status();
    tls = *std::move(material);
  }
  return std::unique_ptr<KvClient>(new KvClient(std::move(options), std::move(tls)));
}

KvClient::KvClient(KvClientOptions options, std::optional<TlsMaterial> tls)
    : options_(std::move(options)),
      tls_(std::move(tls)),
      own_clock_(options_.clock == nullptr ? std::make_unique<SystemClock>() : nullptr),
      clock_(options_.clock == nullptr ? own_clock_.get() : options_.clock),
      hedge_(options_.hedge),
      random_(options_.seed != 0 ? options_.seed : std::random_device{}()) {
  grpc::ChannelArguments args = ReconnectingChannelArguments();
  // The client retries by itself (CallNodes), and only where safe. gRPC's
  // retry layer, with no retry policy, would only replay a call that never
  // left the client, and buffers every call for it.
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  args.SetMaxReceiveMessageSize(kMaxMessageBytes);
  args.SetMaxSendMessageSize(kMaxMessageBytes);
  const std::shared_ptr<grpc::ChannelCredentials> credentials =
      ChannelCredentialsFor(tls_ ? &*tls_ : nullptr);
  for (const std::string& endpoint : options_.endpoints) {
    std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(endpoint, credentials, args);
    nodes_.push_back(
        std::unique_ptr<Node>(new Node{.endpoint = endpoint,
                                       .channel = channel,
                                       .stub = v1::KvService::NewStub(channel),
                                       .breaker = CircuitBreaker(options_.breaker, clock_)}));
  }
  absl::MutexLock lock(&mu_);
  routing_.node_of_endpoint.resize(nodes_.size());
}

KvClient::~KvClient() = default;

absl::Time KvClient::DeadlineOf(absl::Duration timeout) const {
  return absl::Now() + (timeout > absl::ZeroDuration() ? timeout : options_.timeout);
}

std::string KvClient::IdempotencyKey(const std::string& given) {
  if (!given.empty()) return given;
  // 128 bits from a generator per thread seeded from the system's entropy
  // (no system call per write): a key must never repeat across processes
  // or clients.
  thread_local absl::BitGen random;
  return absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(random),
                         absl::Uniform<uint64_t>(random));
}

std::vector<size_t> KvClient::AllEndpoints() const {
  std::vector<size_t> all(nodes_.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  return all;
}

template <typename Response, typename Rpc>
absl::StatusOr<Response> KvClient::CallNodes(const std::vector<size_t>& order, absl::Time deadline,
                                             bool idempotent, Rpc rpc, uint32_t max_passes) {
  // A put or delete (the calls answered with a PutResponse) whose
  // connection dropped with the call in flight may have been applied: if no
  // later attempt succeeds, its outcome is unknown (DEADLINE_EXCEEDED, kvctl
  // exit 5), whatever the later attempts said.
  constexpr bool kWrite = std::is_same_v<Response, v1::PutResponse>;
  // Why each node failed, the last time this request tried it.
  std::vector<std::string> failure(nodes_.size());
  std::vector<std::string> last_error(nodes_.size());  // by node, in this request
  bool tried = false;
  MaybeApplied applied;
  for (uint32_t pass = 0; pass < max_passes; ++pass) {
    bool out_of_time = false;
    for (size_t k = 0; k < order.size(); ++k) {
      const size_t i = order[k];
      // Another node, or a later pass, could take the request.
      const bool others_left = k + 1 < order.size() || pass + 1 < max_passes;
      Node& node = *nodes_[i];
      if (absl::Now() >= deadline) {
        // Not the node's failure: no time was left to ask it.
        if (!tried) {
          return absl::DeadlineExceededError(
              absl::StrCat("deadline exceeded before ", node.endpoint, " could be asked"));
        }
        // The time ran out between attempts that each ended without an
        // answer: report them (a backoff's sleep may end past the deadline).
        if (failure[i].empty()) {
          failure[i] = absl::StrCat(node.endpoint, ": no time left to ask it");
        }
        out_of_time = true;
        break;
      }
      tried = true;
      if (!node.breaker.Allow()) {
        // What opened it, when this request saw it: the reason to report.
        failure[i] = absl::StrCat(node.endpoint, ": circuit open after repeated failures",
                                  last_error[i].empty() ? "" : " (last: ", last_error[i],
                                  last_error[i].empty() ? "" : ")");
        continue;
      }
      // A channel whose connection attempt failed still takes the call: it
      // fails at once, unsent, with the reason (refused, a TLS handshake).
      if (!Connected(node, deadline, others_left)) {
        node.breaker.RecordFailure();
        failure[i] = absl::StrCat(node.endpoint, ": could not connect in time");
        continue;
      }
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(deadline));
      Response response;
      grpc::Status status = rpc(node.stub.get(), &context, &response);
      if (NodeFailed(status, deadline)) {
        node.breaker.RecordFailure();
      } else {
        node.breaker.RecordSuccess();
      }
      if (status.ok()) return response;
      if (kWrite) applied.OnFailure(node.endpoint, status);
      const bool move_on = idempotent ? IsUnreachable(status) || ShedAtAdmission(status)
                                      : NeverReachedCoordinator(status);
      if (!move_on || absl::Now() >= deadline) return applied.Outcome(WithQuorum(status));
      last_error[i] = status.error_message();
      failure[i] = absl::StrCat(node.endpoint, ": ", status.error_message());
    }
    if (out_of_time || pass + 1 == max_passes) break;
    absl::Duration wait;
    {
      absl::MutexLock lock(&mu_);
      wait = FullJitterBackoff(options_.backoff, pass, random_);
    }
    if (absl::Now() + wait >= deadline) break;
    absl::SleepFor(wait);
  }
  std::vector<std::string> failures;
  for (size_t i : order) {
    if (!failure[i].empty()) failures.push_back(failure[i]);
  }
  return applied.Outcome(
      ExplainTlsFailure(absl::UnavailableError(absl::StrCat("no node reachable (",
                                                            absl::StrJoin(failures, "; "), ")")),
                        tls_.has_value()));
}

absl::StatusOr<v1::GetResponse> KvClient::GetOnce(const std::string& key, uint32_t r, bool strict,
                                                  const std::vector<size_t>& order,
                                                  absl::Time deadline, uint32_t max_passes) {
  v1::GetRequest request;
  request.set_key(key);
  request.set_r(r);
  request.set_strict(strict);
  std::vector<size_t> rest = order;
  if (order.size() >= 2) {
    if (std::optional<absl::Duration> delay = hedge_.OnReadStart()) {
      std::vector<size_t> tried;
      std::optional<absl::StatusOr<v1::GetResponse>> hedged =
          HedgedGet(request, order, deadline, *delay, &tried);
      if (hedged) return *std::move(hedged);
      // Neither answered and moving on is safe: on to the others.
      rest.erase(std::remove_if(rest.begin(), rest.end(),
                                [&](size_t e) {
                                  return std::find(tried.begin(), tried.end(), e) != tried.end();
                                }),
                 rest.end());
      if (rest.empty()) rest = order;
    }
  }
  const absl::Time start = absl::Now();
  absl::StatusOr<v1::GetResponse> result = CallNodes<v1::GetResponse>(
      rest, deadline, /*idempotent=*/true,
      [&](auto* stub, auto* ctx, auto* response) { return stub->Get(ctx, request, response); },
      max_passes);
  if (result.ok()) hedge_.RecordLatency(absl::Now() - start);
  return result;
}

absl::StatusOr<v1::GetResponse> KvClient::Get(const std::string& key, const ReadOptions& options,
                                              Session* session) {
  const absl::Time deadline = DeadlineOf(options.timeout);
  if (session != nullptr) return SessionGet(key, options, session, deadline);
  return GetOnce(key, options.r, options.strict, OrderFor(key, deadline), deadline);
}

absl::StatusOr<v1::GetResponse> KvClient::SessionGet(const std::string& key,
                                                     const ReadOptions& options, Session* session,
                                                     absl::Time deadline) {
  SessionRead read(session, key,
                   SessionReadOptions{.r = options.r,
                                      .strict = options.strict,
                                      .max_staleness = options.max_staleness,
                                      .allow_stale = options.allow_stale},
                   [&] { return HomesOf(key, deadline); });
  while (!read.done()) {
    if (read.attempt_index() > 0 && absl::Now() >= deadline) {
      read.OnDeadline();
      break;
    }
    const ReadAttempt& attempt = read.next();
    std::vector<size_t> order = OrderFor(key, deadline);
    if (!attempt.via.empty()) {
      std::optional<size_t> via = EndpointOfNode(attempt.via, deadline);
      if (via) {
        order = {*via};
      } else if (attempt.r <= 1) {
        // Only that node's own replica was wanted; another node's is no substitute.
        read.OnReply(absl::UnavailableError(
            absl::StrCat("no endpoint of this client reaches node ", attempt.via)));
        continue;
      }  // else: a read of more replicas, through whichever node answers
    }
    // An escalation makes one pass: the rungs after it need the time left.
    read.OnReply(GetOnce(key, attempt.r, attempt.strict, order, deadline,
                         read.attempt_index() == 0 ? UINT32_MAX : 1));
  }
  if (read.result().ok()) session->RecordRead(key, read.taken_context());
  return std::move(read).TakeResult();
}

absl::StatusOr<v1::PutResponse> KvClient::Recorded(const std::string& key, Session* session,
                                                   absl::StatusOr<v1::PutResponse> result) {
  if (result.ok() && session != nullptr) {
    if (absl::Status recorded = session->RecordWrite(key, *result); !recorded.ok()) return recorded;
  }
  return result;
}

absl::StatusOr<v1::PutResponse> KvClient::Put(const std::string& key, const std::string& value,
                                              const WriteOptions& options, Session* session) {
  const absl::Time deadline = DeadlineOf(options.timeout);
  v1::PutRequest request;
  request.set_key(key);
  request.set_value(value);
  request.set_context(options.context);
  request.set_w(options.w);
  request.set_strict(options.strict);
  request.set_idempotency_key(IdempotencyKey(options.idempotency_key));
  return Recorded(key, session,
                  CallNodes<v1::PutResponse>(OrderFor(key, deadline), deadline, /*idempotent=*/true,
                                             [&](auto* stub, auto* ctx, auto* response) {
                                               return stub->Put(ctx, request, response);
                                             }));
}

absl::StatusOr<v1::PutResponse> KvClient::Delete(const std::string& key,
                                                 const WriteOptions& options, Session* session) {
  const absl::Time deadline = DeadlineOf(options.timeout);
  v1::DeleteRequest request;
  request.set_key(key);
  request.set_context(options.context);
  request.set_w(options.w);
  request.set_strict(options.strict);
  request.set_idempotency_key(IdempotencyKey(options.idempotency_key));
  if (options.context.empty() && !options.blind) {
    absl::StatusOr<v1::GetResponse> read =
        Get(key, ReadOptions{.strict = options.strict, .timeout = deadline - absl::Now()}, session);
    if (!read.ok()) return read.status();
    request.set_context(read->context());
  }
  return Recorded(key, session,
                  CallNodes<v1::PutResponse>(OrderFor(key, deadline), deadline, /*idempotent=*/true,
                                             [&](auto* stub, auto* ctx, auto* response) {
                                               return stub->Delete(ctx, request, response);
                                             }));
}

absl::StatusOr<v1::StatusResponse> KvClient::Status() {
  return CallNodes<v1::StatusResponse>(AllEndpoints(), DeadlineOf(absl::ZeroDuration()),
                                       /*idempotent=*/true,
                                       [&](auto* stub, auto* ctx, auto* response) {
                                         return stub->Status(ctx, v1::StatusRequest(), response);
                                       });
}

absl::StatusOr<v1::RepairResponse> KvClient::Repair(const v1::RepairRequest& request) {
  return CallNodes<v1::RepairResponse>(
      AllEndpoints(), DeadlineOf(absl::ZeroDuration()),
      /*idempotent=*/!request.start(),
      [&](auto* stub, auto* ctx, auto* response) { return stub->Repair(ctx, request, response); });
}

absl::StatusOr<v1::RingResponse> KvClient::Ring() {
  return CallNodes<v1::RingResponse>(AllEndpoints(), DeadlineOf(absl::ZeroDuration()),
                                     /*idempotent=*/true,
                                     [&](auto* stub, auto* ctx, auto* response) {
                                       return stub->Ring(ctx, v1::RingRequest(), response);
                                     });
}

std::vector<std::pair<std::string, std::string>> KvClient::BreakerStates() {
  std::vector<std::pair<std::string, std::string>> states;
  for (const auto& node : nodes_) {
    states.emplace_back(node->endpoint, CircuitStateName(node->breaker.state()));
  }
  return states;
}

bool HasConflict(const v1::GetResponse& response) { return LiveValues(response).size() > 1; }

std::vector<std::string> LiveValues(const v1::GetResponse& response) {
  std::vector<std::string> values;
  for (const v1::Sibling& s : response.siblings()) {
    if (!s.tombstone()) values.push_back(s.value());
  }
  return values;
}

}  // namespace quorumkv
