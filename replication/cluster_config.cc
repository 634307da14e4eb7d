#include "replication/cluster_config.h"

#include <google/protobuf/text_format.h>

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "replication/quorum.h"
#include "replication/status_macros.h"

namespace quorumkv {
namespace {

bool ValidNodeId(absl::string_view id) {
  if (id.empty() || id.size() > 32) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  }
  return true;
}

void FillDefaults(pb::ClusterConfig& c) {
  if (c.replication_factor() == 0) c.set_replication_factor(kDefaultReplicationFactor);
  if (c.default_r() == 0) c.set_default_r(kDefaultR);
  if (c.default_w() == 0) c.set_default_w(kDefaultW);
  if (c.vnodes_per_node() == 0) c.set_vnodes_per_node(kDefaultVnodesPerNode);
  if (c.max_key_bytes() == 0) c.set_max_key_bytes(kDefaultMaxKeyBytes);
  if (c.max_value_bytes() == 0) c.set_max_value_bytes(kDefaultMaxValueBytes);
  if (c.max_object_bytes() == 0) c.set_max_object_bytes(kDefaultMaxObjectBytes);
  if (c.max_request_bytes_in_flight() == 0) {
    c.set_max_request_bytes_in_flight(kDefaultMaxRequestBytesInFlight);
  }
  if (!c.has_sync_writes()) c.set_sync_writes(true);
  if (c.replica_timeout_ms() == 0) c.set_replica_timeout_ms(kDefaultReplicaTimeoutMs);
  if (c.ping_interval_ms() == 0) c.set_ping_interval_ms(kDefaultPingIntervalMs);
  if (c.suspect_after_ms() == 0) c.set_suspect_after_ms(kDefaultSuspectAfterMs);
  if (c.down_after_ms() == 0) c.set_down_after_ms(kDefaultDownAfterMs);
  if (c.max_hint_bytes_per_target() == 0) {
    c.set_max_hint_bytes_per_target(kDefaultMaxHintBytesPerTarget);
  }
  if (c.max_hints_per_target() == 0) c.set_max_hints_per_target(kDefaultMaxHintsPerTarget);
  if (c.max_hint_age_ms() == 0) c.set_max_hint_age_ms(kDefaultMaxHintAgeMs);
  if (c.handoff_bytes_per_second() == 0) {
    c.set_handoff_bytes_per_second(kDefaultHandoffBytesPerSecond);
  }
  if (c.default_min_w() == 0) c.set_default_min_w(1);
  if (!c.has_anti_entropy_interval_ms()) {
    c.set_anti_entropy_interval_ms(kDefaultAntiEntropyIntervalMs);
  }
  if (c.anti_entropy_keys_per_second() == 0) {
    c.set_anti_entropy_keys_per_second(kDefaultAntiEntropyKeysPerSecond);
  }
  if (c.anti_entropy_bytes_per_second() == 0) {
    c.set_anti_entropy_bytes_per_second(kDefaultAntiEntropyBytesPerSecond);
  }
  // Purge trusts that the merges that proved it survive a power loss.
  if (!c.has_tombstone_grace_ms()) {
    c.set_tombstone_grace_ms(c.sync_writes() ? kDefaultTombstoneGraceMs : 0);
  }
}

absl::Status ValidateNodes(const pb::ClusterConfig& c) {
  if (c.nodes().empty()) return absl::InvalidArgumentError("config lists no nodes");
  if (static_cast<size_t>(c.nodes_size()) > kMaxNodes) {
    return absl::InvalidArgumentError(
        absl::StrCat("config lists ", c.nodes_size(), " nodes (limit ", kMaxNodes, ")"));
  }
  absl::flat_hash_set<std::string> ids, addresses;
  for (const pb::NodeConfig& n : c.nodes()) {
    if (!ValidNodeId(n.id())) {
      return absl::InvalidArgumentError(
          absl::StrCat("node id '", n.id(), "' is not 1..32 of [A-Za-z0-9_-]"));
    }
    if (n.address().empty()) {
      return absl::InvalidArgumentError(absl::StrCat("node ", n.id(), " has no address"));
    }
    if (!ids.insert(n.id()).second) {
      return absl::InvalidArgumentError(absl::StrCat("node id ", n.id(), " appears twice"));
    }
    if (!addresses.insert(n.address()).second) {
      return absl::InvalidArgumentError(absl::StrCat("address ", n.address(), " appears twice"));
    }
  }
  for (const pb::LinkConfig& l : c.links()) {
    if (!FindNode(c, l.from()) || !FindNode(c, l.to()) || l.address().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("link ", l.from(), "->", l.to(), " names an unknown node or no address"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateLimits(const pb::ClusterConfig& c) {
  const uint32_t n = c.replication_factor();
  if (n > static_cast<uint32_t>(c.nodes_size())) {
    return absl::InvalidArgumentError(absl::StrCat("replication_factor N=", n, " exceeds the ",
                                                   c.nodes_size(), " nodes configured"));
  }
  RETURN_IF_ERROR(ValidateQuorumSize("default_r R", c.default_r(), n));
  RETURN_IF_ERROR(ValidateQuorumSize("default_w W", c.default_w(), n));
  if (c.vnodes_per_node() > kMaxVnodesPerNode) {
    return absl::InvalidArgumentError(
        absl::StrCat("vnodes_per_node ", c.vnodes_per_node(), " exceeds ", kMaxVnodesPerNode));
  }
  if (c.max_value_bytes() > kHardMaxValueBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_value_bytes ", c.max_value_bytes(), " exceeds the hard cap of ", kHardMaxValueBytes));
  }
  if (c.max_object_bytes() > kHardMaxObjectBytes || c.max_object_bytes() < c.max_value_bytes()) {
    return absl::InvalidArgumentError(absl::StrCat("max_object_bytes ", c.max_object_bytes(),
                                                   " is not in max_value_bytes..",
                                                   kHardMaxObjectBytes));
  }
  RETURN_IF_ERROR(ValidateQuorumSize("default_min_w", c.default_min_w(), n));
  for (const pb::NamespaceConfig& ns : c.namespaces()) {
    if (ns.min_w() == 0) continue;
    RETURN_IF_ERROR(
        ValidateQuorumSize(absl::StrCat("min_w of namespace '", ns.name(), "'"), ns.min_w(), n));
  }
  if (c.tombstone_grace_ms() > 0 && !c.sync_writes()) {
    return absl::InvalidArgumentError(
        "tombstone_grace_ms needs sync_writes: true (a purge trusts that the merges that proved "
        "every home replica holds a tombstone survive a power loss); set tombstone_grace_ms: 0");
  }
  if (c.tombstone_grace_ms() > 0 &&
      c.tombstone_grace_ms() <= c.max_hint_age_ms() + c.replica_timeout_ms()) {
    return absl::InvalidArgumentError(
        absl::StrCat("tombstone_grace_ms ", c.tombstone_grace_ms(), " must exceed max_hint_age_ms ",
                     c.max_hint_age_ms(), " + replica_timeout_ms ", c.replica_timeout_ms(),
                     " (a late hint could bring a purged value back), or be 0 (never purge)"));
  }
  if (!(c.ping_interval_ms() < c.suspect_after_ms() && c.suspect_after_ms() < c.down_after_ms())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "failure detection needs ping_interval_ms < suspect_after_ms < down_after_ms (got ",
        c.ping_interval_ms(), ", ", c.suspect_after_ms(), ", ", c.down_after_ms(), ")"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyDefaultsAndValidate(pb::ClusterConfig& config) {
  FillDefaults(config);
  RETURN_IF_ERROR(ValidateNodes(config));
  return ValidateLimits(config);
}

absl::StatusOr<pb::ClusterConfig> ParseClusterConfig(absl::string_view textproto) {
  pb::ClusterConfig config;
  if (!google::protobuf::TextFormat::ParseFromString(std::string(textproto), &config)) {
    return absl::InvalidArgumentError("cluster config is not a valid ClusterConfig textproto");
  }
  RETURN_IF_ERROR(ApplyDefaultsAndValidate(config));
  return config;
}

std::string PeerAddress(const pb::ClusterConfig& config, absl::string_view from,
                        absl::string_view to) {
  for (const pb::LinkConfig& l : config.links()) {
    if (l.from() == from && l.to() == to) return l.address();
  }
  const pb::NodeConfig* node = FindNode(config, to);
  return node ? node->address() : std::string();
}

absl::string_view NamespaceOf(absl::string_view key) {
  const size_t slash = key.find('/');
  return slash == absl::string_view::npos ? absl::string_view() : key.substr(0, slash);
}

pb::ConflictPolicy ConflictPolicyFor(const pb::ClusterConfig& config, absl::string_view key) {
  const absl::string_view ns = NamespaceOf(key);
  if (!ns.empty()) {
    for (const pb::NamespaceConfig& n : config.namespaces()) {
      if (n.name() == ns) return n.conflict();
    }
  }
  return config.default_conflict();
}

uint32_t MinWFor(const pb::ClusterConfig& config, absl::string_view key) {
  const absl::string_view ns = NamespaceOf(key);
  if (!ns.empty()) {
    for (const pb::NamespaceConfig& n : config.namespaces()) {
      if (n.name() == ns && n.min_w() > 0) return n.min_w();
    }
  }
  return std::max<uint32_t>(config.default_min_w(), 1);
}

const pb::NodeConfig* FindNode(const pb::ClusterConfig& config, absl::string_view id) {
  for (const pb::NodeConfig& n : config.nodes()) {
    if (n.id() == id) return &n;
  }
  return nullptr;
}

}  // namespace quorumkv
