// kvctl status's second half: the cluster as every node sees it. Each node
// is asked for its status on a connection of its own (at once, in
// parallel); their failure detectors' states of the nodes are set side by
// side, and a node the reporters see differently (up to one, down to
// another: a partition, a one-way fault) is flagged.
#ifndef QUORUMKV_TOOLS_KVCTL_STATUS_VIEWS_H_
#define QUORUMKV_TOOLS_KVCTL_STATUS_VIEWS_H_

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/kv.pb.h"
#include "security/tls_files.h"

namespace quorumkv::kvctl {

// What one endpoint answered.
struct NodeView {
  std::string endpoint;
  absl::StatusOr<v1::StatusResponse> status;
};

// Asks every endpoint, each within `timeout` (over TLS with `tls` unless
// empty); in endpoint order.
std::vector<NodeView> AskEveryNode(const std::vector<std::string>& endpoints,
                                   absl::Duration timeout, const TlsFiles& tls);

// The nodes whose state differs between the reporters that answered:
// node -> (reporter -> state).
using Disagreements = std::map<std::string, std::map<std::string, std::string>>;
Disagreements FindDisagreements(const std::vector<NodeView>& views);

// A table, a row per reporter and a column per node, then a line per
// disagreement and per endpoint that did not answer.
void PrintViews(const std::vector<NodeView>& views, const Disagreements& disagreements);
// {"views": [{"reporter", "states": {node: state}} | {"endpoint", "error"}],
//  "disagreements": [{"node", "states": {reporter: state}}]}
nlohmann::json ViewsJson(const std::vector<NodeView>& views, const Disagreements& disagreements);

}  // namespace quorumkv::kvctl

#endif  // QUORUMKV_TOOLS_KVCTL_STATUS_VIEWS_H_
