#include "replication/replica_node.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "replication/cluster_config.h"
#include "replication/logging.h"
#include "replication/object_codec.h"
#include "replication/status_macros.h"

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
  return options;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ReplicaNode>> ReplicaNode::Create(ReplicaNodeOptions options,
                                                                 ReplicaStore* store,
                                                                 Transport* transport,
                                                                 Clock* clock) {
  if (FindNode(options.config, options.self) == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("node ", options.self, " is not in the cluster config"));
  }
  std::vector<std::string> ids;
  for (const pb::NodeConfig& n : options.config.nodes()) ids.push_back(n.id());
  ASSIGN_OR_RETURN(Ring ring, Ring::Create(std::move(ids), options.config.vnodes_per_node(),
                                           options.config.replication_factor()));
  return std::unique_ptr<ReplicaNode>(
      new ReplicaNode(std::move(options), std::move(ring), store, transport, clock));
}

ReplicaNode::ReplicaNode(ReplicaNodeOptions options, Ring ring, ReplicaStore* store,
                         Transport* transport, Clock* clock)
    : options_(std::move(options)),
      ring_(std::move(ring)),
      store_(store),
      clock_(clock),
      hlc_(clock),
      detector_(Peers(options_.config, options_.self), DetectorOptions(options_.config),
                clock->Now()),
      transport_(transport, &detector_, clock),
      handoff_(
          options_.self, store, &transport_, &detector_,
          [this](const std::string& key) { return ring_.PartitionOf(key); },
          HandoffOptionsFor(options_.config)),
      write_group_(store, options_.run_blocking),
      empty_start_(store->EmptyStartUnsettled(), Peers(options_.config, options_.self)),
      peers_holding_data_(store->ActorsSeenHoldingData()) {}

absl::Time ReplicaNode::ReplicaDeadline(absl::Time deadline) {
  const absl::Time now = clock_->Now();
  const absl::Duration margin =
      std::min(absl::Milliseconds(50), std::max(deadline - now, absl::ZeroDuration()) / 10);
  return std::min(deadline - margin, now + absl::Milliseconds(config().replica_timeout_ms()));
}

MergePolicy ReplicaNode::PolicyFor(absl::string_view key) const {
  return ConflictPolicyFor(config(), key) == pb::CONFLICT_LWW ? MergePolicy::kLastWriterWins
                                                              : MergePolicy::kSiblings;
}

QuorumSlots::Healthy ReplicaNode::HealthyFn() const {
  const FailureDetector* detector = &detector_;
  Clock* clock = clock_;
  const std::string self = options_.self;
  return [detector, clock, self](const std::string& node) {
    return node == self || detector->Healthy(node, clock->Now());
  };
}

absl::Status ReplicaNode::CheckStrictQuorumReachable(const std::vector<std::string>& home,
                                                      uint32_t required, absl::string_view param,
                                                      absl::string_view untouched) const {
  const absl::Time now = clock_->Now();
  std::vector<std::string> down;
  for (const std::string& node : home) {
    if (node != self() && detector_.StateOf(node, now) == PeerState::kDown) down.push_back(node);
  }
  if (home.size() - down.size() >= required) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat(
      "quorum not met: ", param, "=", required, " needs ", required, " of the ", home.size(),
      " home replicas and ", absl::StrJoin(down, ", "), down.size() == 1 ? " is" : " are",
      " down (as ", self(), "'s failure detector sees it; a strict request uses no fallback); ",
      untouched));
}

bool ReplicaNode::MayLackWrites(const std::string& key) const {
  return empty_start_.asking() || store_->MarkedForRepair(ring_.PartitionOf(key));
}

void ReplicaNode::OnPingAnswer(const std::string& peer, const pb::PingResponse& reply) {
  if (reply.holds_data() && !reply.actor().empty()) peers_holding_data_.Saw(reply.actor());
  empty_start_.OnPeerAnswer(peer, reply.you_held_data());
}

void ReplicaNode::SettleEmptyStart() {
  for (const std::string& actor : peers_holding_data_.TakeUnrecorded()) {
    absl::Status recorded = store_->RecordActorHoldsData(actor);
    if (!recorded.ok()) {
      peers_holding_data_.Unrecorded(actor);  // the next tick tries again
      Log(LogLevel::kError, absl::StrCat("cannot record that ", actor,
                                         " holds data: ", recorded.message()));
    }
  }
  if (empty_start_.TakeLoss()) {
    absl::Status marked = store_->MarkPartitionForRepair(kEveryPartition);
    Log(marked.ok() ? LogLevel::kWarning : LogLevel::kError,
        absl::StrCat(self(), " started on an empty data directory, but its peers have seen it "
                             "holding data under another actor: its disk was wiped or replaced. "
                             "It runs as the new actor ",
                     store_->actor(),
                     marked.ok() ? "; every partition marked for repair"
                                 : absl::StrCat("; marking its partitions for repair failed: ",
                                                marked.message())));
    if (!marked.ok()) return;  // it asks again after a restart
  }
  if (empty_start_.TakeSettled()) {
    absl::Status settled = store_->SettleEmptyStart();
    if (!settled.ok()) {
      Log(LogLevel::kError, absl::StrCat("cannot record that the empty start is settled: ",
                                         settled.message()));
    }
  }
}

std::vector<std::string> ReplicaNode::ForwardCandidates(
    const std::vector<std::string>& home) const {
  std::vector<std::string> candidates = home;
  const QuorumSlots::Healthy healthy = HealthyFn();
  std::stable_partition(candidates.begin(), candidates.end(), healthy);
  return candidates;
}

pb::RingResponse ReplicaNode::RingInfo() const {
  pb::RingResponse ring;
  for (const pb::NodeConfig& n : config().nodes()) {
    pb::NodeAddress* a = ring.add_nodes();
    a->set_id(n.id());
    a->set_address(n.address());
  }
  ring.set_replication_factor(config().replication_factor());
  ring.set_vnodes_per_node(config().vnodes_per_node());
  ring.set_default_r(config().default_r());
  ring.set_default_w(config().default_w());
  return ring;
}

void ReplicaNode::Tick() {
  const absl::Time now = clock_->Now();
  SettleEmptyStart();
  pb::PingRequest ping;
  ping.set_from(self());
  ping.set_holds_data(store_->HoldsData());
  ping.set_actor(store_->actor());
  // The detector learns from the answer (or its absence) on its own.
  for (const std::string& peer : detector_.PingsDue(now)) {
    transport_.Ping(peer, ping, now + detector_.options().ping_timeout,
                    [this, peer](absl::StatusOr<pb::PingResponse> reply) {
                      if (reply.ok()) OnPingAnswer(peer, *reply);
                    });
  }
  handoff_.Tick(now);
}

void FillGetResponse(const Object& merged, pb::GetResponse* response) {
  // The context is bound to response->key(), which callers set first.
  response->set_found(LiveSiblingCount(merged) > 0);
  response->clear_siblings();
  for (const Sibling& s : merged.siblings) ToProto(s, response->add_siblings());
  response->set_context(EncodeContext(merged.context, response->key()));
}

}  // namespace quorumkv
