// The links of a kvharness cluster and the faults on them, as kvharness
// writes them for its proxy (link_proxy.h) and reads them back: the endpoint
// names, a proxied link, a fault on the bytes from one endpoint to another,
// and the text files D/proxy/links and D/faults/links.
#ifndef QUORUMKV_TOOLS_KVHARNESS_LINKS_H_
#define QUORUMKV_TOOLS_KVHARNESS_LINKS_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace quorumkv {

// The endpoint name of every client: links "client->n1", faults
// "client->n1" (the client's requests) and "n1->client" (its answers).
inline constexpr char kClientEndpoint[] = "client";

struct ProxiedLink {
  std::string from;     // a node id, or kClientEndpoint
  std::string to;       // a node id
  int listen_port = 0;  // on 127.0.0.1
  std::string target;   // host:port of `to`
};

struct LinkFault {
  bool drop = false;
  bool reset = false;
  absl::Duration delay;
  absl::Duration jitter;
  bool any() const { return drop || reset || delay > absl::ZeroDuration(); }
};

// Faults by (sender, receiver) of the bytes.
using LinkFaults = std::map<std::pair<std::string, std::string>, LinkFault>;

// "n1->n2" -> ("n1", "n2"); INVALID_ARGUMENT otherwise.
absl::StatusOr<std::pair<std::string, std::string>> ParseLink(const std::string& text);
// One side of a partition: "n1,n2" -> {"n1", "n2"}.
std::vector<std::string> ParseSide(const std::string& text);

// The faults file kvharness keeps in D/faults/links: a first line
// "generation G", then per faulty (sender, receiver) pair one line
// "FROM TO [drop] [reset] [delay=MS jitter=MS]".
std::string FormatLinkFaults(uint64_t generation, const LinkFaults& faults);
absl::StatusOr<std::pair<uint64_t, LinkFaults>> ParseLinkFaults(const std::string& text);

// The links file of D/proxy/links: "FROM TO LISTEN_PORT TARGET" per line.
std::string FormatProxiedLinks(const std::vector<ProxiedLink>& links);
absl::StatusOr<std::vector<ProxiedLink>> ParseProxiedLinks(const std::string& text);

}  // namespace quorumkv

#endif  // QUORUMKV_TOOLS_KVHARNESS_LINKS_H_
