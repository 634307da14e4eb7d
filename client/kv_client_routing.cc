// KvClient's routing (kv_client.h): the ring, which endpoint is which
// node, and the order of endpoints for a key.
#include <algorithm>

#include "client/kv_client_internal.h"

namespace quorumkv {
namespace {

// How often the client asks again who is behind endpoints it could not reach.
constexpr absl::Duration kResolveEvery = absl::Seconds(5);
// The longest a ring query to one endpoint may take.
constexpr absl::Duration kResolveTimeout = absl::Seconds(1);

}  // namespace

void KvClient::Resolve(absl::Time deadline) {
  std::vector<size_t> unknown;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = absl::Now();
    if (now < routing_.last_refresh + kResolveEvery) return;
    routing_.last_refresh = now;
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (routing_.node_of_endpoint[i].empty()) unknown.push_back(i);
    }
  }
  if (unknown.empty()) return;
  // Every endpoint at once, each bounded: a blackholed one costs
  // kResolveTimeout once, not a timeout per request. On a completion queue
  // of this call's own: no thread, nothing left running after it returns.
  struct Query {
    grpc::ClientContext context;
    v1::RingResponse response;
    grpc::Status status;
    std::unique_ptr<grpc::ClientAsyncResponseReader<v1::RingResponse>> reader;
  };
  std::vector<Query> queries(unknown.size());
  const v1::RingRequest request;
  grpc::CompletionQueue queue;
  const absl::Time query_deadline = std::min(deadline, absl::Now() + kResolveTimeout);
  for (size_t q = 0; q < unknown.size(); ++q) {
    Query& query = queries[q];
    query.context.set_deadline(absl::ToChronoTime(query_deadline));
    query.reader = nodes_[unknown[q]]->stub->PrepareAsyncRing(&query.context, request, &queue);
    query.reader->StartCall();
    query.reader->Finish(&query.response, &query.status,
                         reinterpret_cast<void*>(static_cast<intptr_t>(q)));
  }
  void* tag;
  bool ok;
  for (size_t done = 0; done < unknown.size() && queue.Next(&tag, &ok); ++done) {
  }
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
  absl::MutexLock lock(&mu_);
  for (size_t q = 0; q < unknown.size(); ++q) {
    if (!queries[q].status.ok()) continue;
    const v1::RingResponse& info = queries[q].response;
    routing_.node_of_endpoint[unknown[q]] = info.responder();
    if (routing_.ring || info.nodes().empty()) continue;
    std::vector<std::string> ids;
    for (const v1::NodeAddress& node : info.nodes()) ids.push_back(node.id());
    absl::StatusOr<::quorumkv::Ring> ring =
        ::quorumkv::Ring::Create(std::move(ids), info.vnodes_per_node(), info.replication_factor());
    if (ring.ok()) routing_.ring = *std::move(ring);
  }
}

std::vector<std::string> KvClient::HomesOf(const std::string& key, absl::Time deadline) {
  Resolve(deadline);
  absl::MutexLock lock(&mu_);
  if (!routing_.ring) return {};
  return routing_.ring->ForKey(key).home;
}

std::optional<size_t> KvClient::EndpointOfNode(const std::string& id, absl::Time deadline) {
  Resolve(deadline);
  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (routing_.node_of_endpoint[i] == id) return i;
  }
  return std::nullopt;
}

std::vector<size_t> KvClient::OrderFor(const std::string& key, absl::Time deadline) {
  std::vector<size_t> order = AllEndpoints();
  if (!options_.route_by_key || nodes_.size() < 2) return order;
  const std::vector<std::string> homes = HomesOf(key, deadline);
  std::vector<size_t> rank(nodes_.size(), homes.size());  // homes in ring order, then the rest
  {
    absl::MutexLock lock(&mu_);
    for (size_t i = 0; i < nodes_.size(); ++i) {
      auto it = std::find(homes.begin(), homes.end(), routing_.node_of_endpoint[i]);
      if (it != homes.end()) rank[i] = static_cast<size_t>(it - homes.begin());
    }
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return rank[a] < rank[b]; });
  return order;
}

}  // namespace quorumkv
