#include "tools/kvctl/status_views.h"

#include <iostream>
#include <memory>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/kv_client.h"

namespace quorumkv::kvctl {
namespace {

absl::StatusOr<v1::StatusResponse> AskOne(const std::string& endpoint, absl::Duration timeout,
                                          const TlsFiles& tls) {
  absl::StatusOr<std::unique_ptr<KvClient>> client = KvClient::Connect(KvClientOptions{
      .endpoints = {endpoint}, .timeout = timeout, .route_by_key = false, .tls = tls});
  if (!client.ok()) return client.status();
  return (*client)->Status();
}

// Every node any reporter reported, in id order.
std::set<std::string> NodesReported(const std::vector<NodeView>& views) {
  std::set<std::string> nodes;
  for (const NodeView& v : views) {
    if (!v.status.ok()) continue;
    for (const v1::NodeStatus& n : v.status->nodes()) nodes.insert(n.id());
  }
  return nodes;
}

std::string StateIn(const v1::StatusResponse& r, const std::string& node) {
  for (const v1::NodeStatus& n : r.nodes()) {
    if (n.id() == node) return n.state();
  }
  return "-";
}

}  // namespace

std::vector<NodeView> AskEveryNode(const std::vector<std::string>& endpoints,
                                   absl::Duration timeout, const TlsFiles& tls) {
  std::vector<NodeView> views(endpoints.size(),
                              NodeView{.status = absl::UnknownError("not asked")});
  std::vector<std::thread> askers;
  askers.reserve(endpoints.size());
  for (size_t i = 0; i < endpoints.size(); ++i) {
    views[i].endpoint = endpoints[i];
    askers.emplace_back(
        [&views, &tls, i, timeout] { views[i].status = AskOne(views[i].endpoint, timeout, tls); });
  }
  for (std::thread& t : askers) t.join();
  return views;
}

Disagreements FindDisagreements(const std::vector<NodeView>& views) {
  Disagreements found;
  for (const std::string& node : NodesReported(views)) {
    std::map<std::string, std::string> states;
    std::set<std::string> distinct;
    for (const NodeView& v : views) {
      if (!v.status.ok() || v.status->reporter() == node) continue;  // not its own view
      const std::string state = StateIn(*v.status, node);
      states[v.status->reporter()] = state;
      distinct.insert(state);
    }
    if (distinct.size() > 1) found[node] = std::move(states);
  }
  return found;
}

void PrintViews(const std::vector<NodeView>& views, const Disagreements& disagreements) {
  const std::set<std::string> nodes = NodesReported(views);
  std::cout << "\nhow each node sees the others (its failure detector):\n"
            << absl::StrFormat("%-10s", "SEEN BY");
  for (const std::string& node : nodes) std::cout << absl::StrFormat(" %-8s", node);
  std::cout << "\n";
  for (const NodeView& v : views) {
    if (!v.status.ok()) continue;
    std::cout << absl::StrFormat("%-10s", v.status->reporter());
    for (const std::string& node : nodes) {
      const std::string state = node == v.status->reporter() ? "(self)" : StateIn(*v.status, node);
      std::cout << absl::StrFormat(" %-8s", state);
    }
    std::cout << "\n";
  }
  for (const NodeView& v : views) {
    if (v.status.ok()) continue;
    std::cout << "no answer from " << v.endpoint << ": " << v.status.status().message() << "\n";
  }
  for (const auto& [node, states] : disagreements) {
    std::vector<std::string> seen;
    for (const auto& [reporter, state] : states)
      seen.push_back(absl::StrCat(state, " to ", reporter));
    std::cout << "disagreement: " << node << " is " << absl::StrJoin(seen, ", ")
              << " (a partition, a one-way fault, or one detector quicker than another)\n";
  }
  if (disagreements.empty()) std::cout << "every node that answered sees the others alike\n";
}

nlohmann::json ViewsJson(const std::vector<NodeView>& views, const Disagreements& disagreements) {
  nlohmann::json out_views = nlohmann::json::array();
  for (const NodeView& v : views) {
    if (!v.status.ok()) {
      out_views.push_back({{"endpoint", v.endpoint}, {"error", v.status.status().message()}});
      continue;
    }
    nlohmann::json states = nlohmann::json::object();
    for (const v1::NodeStatus& n : v.status->nodes()) states[n.id()] = n.state();
    out_views.push_back({{"reporter", v.status->reporter()}, {"states", states}});
  }
  nlohmann::json out_disagreements = nlohmann::json::array();
  for (const auto& [node, states] : disagreements) {
    out_disagreements.push_back({{"node", node}, {"states", states}});
  }
  return {{"views", out_views}, {"disagreements", out_disagreements}};
}

}  // namespace quorumkv::kvctl
