#include "client/kv_client.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "proto/grpc_status_codec.h"

namespace quorumkv {
namespace {

constexpr absl::string_view kQuorumInfoUrl = "type.googleapis.com/quorumkv.v1.QuorumInfo";
// Channel limits: a get may return up to a few times max_object_bytes of
// siblings.
constexpr int kMaxMessageBytes = 512 << 20;

absl::Status WithQuorum(const grpc::Status& status) {
  absl::Status result = FromGrpcStatus(status);
  if (std::optional<v1::QuorumInfo> quorum = QuorumFromGrpcStatus(status)) {
    result.SetPayload(kQuorumInfoUrl, absl::Cord(quorum->SerializeAsString()));
  }
  return result;
}

// A failure of the node or the connection, not a coordinator's outcome
// (those carry QuorumInfo).
bool IsUnreachable(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAVAILABLE &&
         !QuorumFromGrpcStatus(status).has_value();
}

// The request provably did not reach a coordinator: no connection, or the
// node was not ready to take it.
bool NeverReachedCoordinator(const grpc::Status& status) {
  const std::string& m = status.error_message();
  return IsUnreachable(status) && (m.find("failed to connect") != std::string::npos ||
                                   m.find("Connection refused") != std::string::npos ||
                                   m.find("node is starting") != std::string::npos);
}

}  // namespace

absl::StatusOr<std::unique_ptr<KvClient>> KvClient::Connect(KvClientOptions options) {
  if (options.endpoints.empty()) {
    return absl::InvalidArgumentError("no cluster endpoints given (host:port of any node)");
  }
  return std::unique_ptr<KvClient>(new KvClient(std::move(options)));
}

KvClient::KvClient(KvClientOptions options) : options_(std::move(options)) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // The client moves on by itself: one pass over the endpoints, each tried
  // once and at once (no backoff, no circuit breaker yet), a write only
  // when it provably never reached a coordinator (CallAnyNode). gRPC's
  // retry layer, with no retry policy, would only replay a call that never
  // left the client, and buffers every call for it.
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  args.SetMaxReceiveMessageSize(kMaxMessageBytes);
  args.SetMaxSendMessageSize(kMaxMessageBytes);
  for (const std::string& endpoint : options_.endpoints) {
    stubs_.push_back(v1::KvService::NewStub(
        grpc::CreateCustomChannel(endpoint, grpc::InsecureChannelCredentials(), args)));
  }
}

template <typename Response, typename Rpc>
absl::StatusOr<Response> KvClient::CallAnyNode(absl::Duration timeout, bool idempotent, Rpc rpc) {
  const absl::Time deadline =
      absl::Now() + (timeout > absl::ZeroDuration() ? timeout : options_.timeout);
  std::vector<std::string> unreachable;
  for (size_t i = 0; i < stubs_.size(); ++i) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(deadline));
    Response response;
    grpc::Status status = rpc(stubs_[i].get(), &context, &response);
    if (status.ok()) return response;
    const bool move_on = idempotent ? IsUnreachable(status) : NeverReachedCoordinator(status);
    if (!move_on || absl::Now() >= deadline) return WithQuorum(status);
    unreachable.push_back(absl::StrCat(options_.endpoints[i], ": ", status.error_message()));
  }
  return absl::UnavailableError(
      absl::StrCat("no node reachable (", absl::StrJoin(unreachable, "; "), ")"));
}

absl::StatusOr<v1::GetResponse> KvClient::Get(const std::string& key, const ReadOptions& options) {
  v1::GetRequest request;
  request.set_key(key);
  request.set_r(options.r);
  request.set_strict(options.strict);
  return CallAnyNode<v1::GetResponse>(
      options.timeout, /*idempotent=*/true,
      [&](auto* stub, auto* ctx, auto* response) { return stub->Get(ctx, request, response); });
}

absl::StatusOr<v1::PutResponse> KvClient::Put(const std::string& key, const std::string& value,
                                              const WriteOptions& options) {
  v1::PutRequest request;
  request.set_key(key);
  request.set_value(value);
  request.set_context(options.context);
  request.set_w(options.w);
  request.set_strict(options.strict);
  return CallAnyNode<v1::PutResponse>(
      options.timeout, /*idempotent=*/false,
      [&](auto* stub, auto* ctx, auto* response) { return stub->Put(ctx, request, response); });
}

absl::StatusOr<v1::PutResponse> KvClient::Delete(const std::string& key,
                                                 const WriteOptions& options) {
  v1::DeleteRequest request;
  request.set_key(key);
  request.set_context(options.context);
  request.set_w(options.w);
  request.set_strict(options.strict);
  if (options.context.empty() && !options.blind) {
    absl::StatusOr<v1::GetResponse> read =
        Get(key, ReadOptions{.strict = options.strict, .timeout = options.timeout});
    if (!read.ok()) return read.status();
    request.set_context(read->context());
  }
  return CallAnyNode<v1::PutResponse>(
      options.timeout, /*idempotent=*/false,
      [&](auto* stub, auto* ctx, auto* response) { return stub->Delete(ctx, request, response); });
}

absl::StatusOr<v1::StatusResponse> KvClient::Status() {
  return CallAnyNode<v1::StatusResponse>(absl::ZeroDuration(), /*idempotent=*/true,
                                         [&](auto* stub, auto* ctx, auto* response) {
                                           return stub->Status(ctx, v1::StatusRequest(), response);
                                         });
}

absl::StatusOr<v1::RepairResponse> KvClient::Repair(const v1::RepairRequest& request) {
  return CallAnyNode<v1::RepairResponse>(absl::ZeroDuration(), /*idempotent=*/!request.start(),
                                         [&](auto* stub, auto* ctx, auto* response) {
                                           return stub->Repair(ctx, request, response);
                                         });
}

absl::StatusOr<v1::RingResponse> KvClient::Ring() {
  return CallAnyNode<v1::RingResponse>(absl::ZeroDuration(), /*idempotent=*/true,
                                       [&](auto* stub, auto* ctx, auto* response) {
                                         return stub->Ring(ctx, v1::RingRequest(), response);
                                       });
}

std::optional<v1::QuorumInfo> QuorumInfoOf(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kQuorumInfoUrl);
  if (!payload) return std::nullopt;
  v1::QuorumInfo info;
  if (!info.ParseFromString(std::string(*payload))) return std::nullopt;
  return info;
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
