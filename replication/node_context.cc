#include "replication/node_context.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "replication/cluster_config.h"

namespace quorumkv {
namespace {

std::vector<std::string> Peers(const pb::ClusterConfig& config, const std::string& self) {
  std::vector<std::string> peers;
  for (const pb::NodeConfig& n : config.nodes()) {
    if (n.id() != self) peers.push_back(n.id());
  }
  return peers;
}

FailureDetectorOptions DetectorOptions(const pb::ClusterConfig& config) {
  FailureDetectorOptions options;
  options.ping_interval = absl::Milliseconds(config.ping_interval_ms());
  // A ping may take until the peer would be suspect anyway: slower answers
  // still count as answers (and make the peer slow, not silent).
  options.ping_timeout = absl::Milliseconds(config.suspect_after_ms());
  options.suspect_after = absl::Milliseconds(config.suspect_after_ms());
  options.down_after = absl::Milliseconds(config.down_after_ms());
  return options;
}

HandoffOptions HandoffOptionsFor(const pb::ClusterConfig& config) {
  HandoffOptions options;
  options.bytes_per_second = config.handoff_bytes_per_second();
  options.max_hint_age = absl::Milliseconds(config.max_hint_age_ms());
  options.push_timeout = absl::Milliseconds(config.replica_timeout_ms());
  if (config.tombstone_grace_ms() > 0) {
    options.max_age_since_creation =
        absl::Milliseconds(config.tombstone_grace_ms() - config.replica_timeout_ms());
  }
  return options;
}

}  // namespace

NodeContext::NodeContext(ReplicaNodeOptions node_options, Ring node_ring, ReplicaStore* node_store,
                         Hints* node_hints, Transport* node_transport, Clock* node_clock)
    : options(std::move(node_options)),
      ring(std::move(node_ring)),
      trees(&ring),
      tree_keeping_store(node_store, &trees),
      store(&tree_keeping_store),
      hints(node_hints),
      clock(node_clock),
      hlc(node_clock),
      detector(Peers(options.config, options.self), DetectorOptions(options.config),
               node_clock->Now()),
      transport(node_transport, &detector, node_clock),
      handoff(
          options.self, node_hints, &transport, &detector,
          [this](const std::string& key) { return ring.PartitionOf(key); },
          HandoffOptionsFor(options.config)),
      write_group(store, options.run_blocking),
      empty_start(node_store->EmptyStartUnsettled(), Peers(options.config, options.self)),
      peers_holding_data(node_store->ActorsSeenHoldingData()),
      // Kept a grace period: every other home replica runs rounds meanwhile.
      purged_keys(absl::Milliseconds(options.config.tombstone_grace_ms())) {}

absl::Time NodeContext::ReplicaDeadline(absl::Time deadline) const {
  const absl::Time now = clock->Now();
  const absl::Duration margin =
      std::min(absl::Milliseconds(50), std::max(deadline - now, absl::ZeroDuration()) / 10);
  return std::min(deadline - margin, now + absl::Milliseconds(config().replica_timeout_ms()));
}

MergePolicy NodeContext::PolicyFor(absl::string_view key) const {
  return ConflictPolicyFor(config(), key) == pb::CONFLICT_LWW ? MergePolicy::kLastWriterWins
                                                              : MergePolicy::kSiblings;
}

QuorumSlots::Healthy NodeContext::HealthyFn() const {
  return [detector = &detector, clock = clock, self = options.self](const std::string& node) {
    return node == self || detector->Healthy(node, clock->Now());
  };
}

absl::Status NodeContext::CheckStrictQuorumReachable(const std::vector<std::string>& home,
                                                     uint32_t required, absl::string_view param,
                                                     absl::string_view untouched) const {
  const absl::Time now = clock->Now();
  std::vector<std::string> down;
  for (const std::string& node : home) {
    if (node != self() && detector.StateOf(node, now) == PeerState::kDown) down.push_back(node);
  }
  if (home.size() - down.size() >= required) return absl::OkStatus();
  return absl::UnavailableError(
      absl::StrCat("quorum not met: ", param, "=", required, " needs ", required, " of the ",
                   home.size(), " home replicas and ", absl::StrJoin(down, ", "),
                   down.size() == 1 ? " is" : " are", " down (as ", self(),
                   "'s failure detector sees it; a strict request uses no fallback); ", untouched));
}

bool NodeContext::MayLackWrites(const std::string& key) const {
  return MayLackWritesIn(ring.PartitionOf(key));
}

bool NodeContext::MayLackWritesIn(uint32_t partition) const {
  return empty_start.MayLackWrites() || store->MarkedForRepair(partition);
}

std::optional<absl::Duration> NodeContext::WatermarkAgeOf(const std::string& key) const {
  return watermarks.AgeOf(ring.PartitionOf(key), clock->Steady());
}

absl::Status NodeContext::CheckHome(const std::string& key) const {
  if (ring.IsHome(key, self())) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(self(), " is not a home replica of the key (do the nodes share one config?)"));
}

}  // namespace quorumkv
