// kvharness --netns: every node in its own network namespace, the
// namespaces on one bridge, link faults as iptables rules inside them —
// the closest one machine gets to separate hosts (root only).
//
//   bridge qkvbr<tag>, 10.213.<s>.254/24   the harness and its clients
//   namespace qkv<tag>-<node>, 10.213.<s>.<i>/24 on eth0   node i (1-based)
//
// <tag> and <s> derive from the cluster directory, so clusters in
// different directories do not collide. Faults: "drop" is an iptables DROP
// of the sender's packets where they arrive (bytes vanish, connections stay
// open), "reset" a REJECT with a TCP reset; a "client" end is the bridge's
// address. Delays need the proxies (tc netem is not available): refused.
#ifndef QUORUMKV_TOOLS_KVHARNESS_NETNS_H_
#define QUORUMKV_TOOLS_KVHARNESS_NETNS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "tools/kvharness/links.h"

namespace quorumkv {

// Runs a tool (ip, iptables) to completion; INTERNAL with its stderr if it
// fails.
absl::Status RunTool(const std::vector<std::string>& argv);

// Not thread-safe; a value describing one cluster's namespaces.
class NetnsNetwork {
 public:
  // The network of the cluster in `dir`, for nodes `nodes` (n1..nN).
  NetnsNetwork(const std::string& dir, std::vector<std::string> nodes);

  // FAILED_PRECONDITION unless this process may create namespaces (root).
  static absl::Status CheckAllowed();

  std::string Namespace(const std::string& node) const;
  // The node's address (without port) and the harness's, on the bridge.
  std::string AddressOf(const std::string& node) const;
  std::string HostAddress() const;

  // Creates the bridge, the namespaces and their links (removing leftovers
  // of an earlier run first).
  absl::Status Create() const;
  // Removes them; missing pieces are fine.
  void Destroy() const;
  // Replaces every rule with those of `faults`.
  absl::Status Apply(const LinkFaults& faults) const;

 private:
  std::string Bridge() const;
  std::string HostVeth(const std::string& node) const;
  // The iptables commands (without "ip netns exec NS iptables") that put
  // `fault` on link from -> to in place, per namespace.
  void AddRules(const std::string& from, const std::string& to, const LinkFault& fault,
                std::vector<std::pair<std::string, std::vector<std::string>>>* rules) const;

  std::string tag_;
  int subnet_ = 0;
  std::vector<std::string> nodes_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_TOOLS_KVHARNESS_NETNS_H_
