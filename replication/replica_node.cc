#include "replication/replica_node.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "replication/cluster_config.h"
#include "replication/logging.h"
#include "replication/status_macros.h"

namespace quorumkv {

absl::StatusOr<std::unique_ptr<ReplicaNode>> ReplicaNode::Create(ReplicaNodeOptions options,
                                                                 ReplicaStore* store, Hints* hints,
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
  auto node = std::make_unique<NodeContext>(std::move(options), std::move(ring), store, hints,
                                            transport, clock);
  RETURN_IF_ERROR(node->trees.Build(*store));
  return std::unique_ptr<ReplicaNode>(new ReplicaNode(std::move(node)));
}

ReplicaNode::ReplicaNode(std::unique_ptr<NodeContext> node)
    : node_(std::move(node)),
      protocol_(node_.get()),
      puts_(node_.get()),
      gets_(node_.get()),
      status_(node_.get(), &protocol_),
      anti_entropy_(
          node_.get(),
          [this](const pb::ReplicaWriteBatchRequest& r) { return protocol_.HandleWriteBatch(r); },
          AntiEntropyOptionsFor(node_->config())) {}

void ReplicaNode::OnPingAnswer(const std::string& peer, const pb::PingResponse& reply) {
  node_->issued_dots.Heard(peer, reply.actor(),
                           {.ceiling = reply.dot_ceiling(), .block = reply.dot_lease_block()},
                           node_->clock->Steady());
  if (reply.holds_data() && !reply.actor().empty()) node_->peers_holding_data.Saw(reply.actor());
  node_->empty_start.OnPeerAnswer(peer, reply.you_held_data());
}

void ReplicaNode::SettleEmptyStart() {
  for (const std::string& actor : node_->peers_holding_data.TakeUnrecorded()) {
    absl::Status recorded = node_->store->RecordActorHoldsData(actor);
    if (!recorded.ok()) {
      node_->peers_holding_data.Unrecorded(actor);  // the next tick tries again
      node_->store_error_log.Occurred(
          node_->clock->Now(),
          {{"op", "record a peer's actor"}, {"actor", actor}, {"error", recorded.message()}});
    }
  }
  if (node_->empty_start.TakeLoss()) {
    absl::Status marked = node_->store->MarkPartitionForRepair(kEveryPartition);
    LogEvent(marked.ok() ? LogLevel::kWarning : LogLevel::kError, "disk_replaced",
             {{"actor", node_->store->actor()},
              {"repair", marked.ok() ? "every partition marked"
                                     : absl::StrCat("marking failed: ", marked.message())},
              {"msg",
               "started on an empty data directory, but peers have seen this node holding "
               "data under another actor: its disk was wiped or replaced"}});
    if (!marked.ok()) return;  // it asks again after a restart; may lack writes until then
    node_->empty_start.LossMarked();
  }
  if (node_->empty_start.TakeSettled()) {
    absl::Status settled = node_->store->SettleEmptyStart();
    if (!settled.ok()) {
      node_->store_error_log.Occurred(
          node_->clock->Now(),
          {{"op", "record the empty start settled"}, {"error", settled.message()}});
    }
  }
}

std::vector<std::pair<std::string, PeerState>> ReplicaNode::PeerStates() const {
  std::vector<std::pair<std::string, PeerState>> states;
  const absl::Time now = node_->clock->Now();
  for (const pb::NodeConfig& n : node_->config().nodes()) {
    if (n.id() != node_->self()) states.emplace_back(n.id(), node_->detector.StateOf(n.id(), now));
  }
  return states;
}

pb::RingResponse ReplicaNode::RingInfo() const {
  pb::RingResponse ring;
  for (const pb::NodeConfig& n : node_->config().nodes()) {
    pb::NodeAddress* a = ring.add_nodes();
    a->set_id(n.id());
    a->set_address(n.address());
  }
  ring.set_replication_factor(node_->config().replication_factor());
  ring.set_vnodes_per_node(node_->config().vnodes_per_node());
  ring.set_default_r(node_->config().default_r());
  ring.set_default_w(node_->config().default_w());
  ring.set_responder(node_->self());
  return ring;
}

void ReplicaNode::Tick() {
  const absl::Time now = node_->clock->Now();
  SettleEmptyStart();
  node_->many_siblings_log.EndIfQuiet(now);
  node_->store_error_log.EndIfQuiet(now);
  pb::PingRequest ping;
  ping.set_from(node_->self());
  ping.set_holds_data(node_->store->HoldsData());
  ping.set_actor(node_->store->actor());
  const DotLease lease = node_->store->Lease();
  ping.set_dot_ceiling(lease.ceiling);
  ping.set_dot_lease_block(lease.block);
  // The detector learns from the answer (or its absence) on its own.
  for (const std::string& peer : node_->detector.PingsDue(now)) {
    node_->transport.Ping(peer, ping, now + node_->detector.options().ping_timeout,
                          [this, peer](absl::StatusOr<pb::PingResponse> reply) {
                            if (reply.ok()) OnPingAnswer(peer, *reply);
                          });
  }
  node_->handoff.Tick(now);
}

absl::StatusOr<pb::RepairResponse> ReplicaNode::Repair(const pb::RepairRequest& request) {
  pb::RepairResponse response;
  response.set_node(node_->self());
  if (request.has_partition() && request.partition() >= node_->ring.partition_count()) {
    return absl::InvalidArgumentError(absl::StrCat("partition ", request.partition(),
                                                   " is not in the ring (partitions 0 to ",
                                                   node_->ring.partition_count() - 1, ")"));
  }
  if (request.start()) {
    response.set_round(anti_entropy_.RequestRound(
        request.has_partition() ? std::optional<uint32_t>(request.partition()) : std::nullopt));
  }
  AntiEntropyStats s = anti_entropy_.stats();
  if (request.report_finished() > 0 && s.rounds_finished >= request.report_finished()) {
    s = anti_entropy_.last_finished();
  }
  response.set_rounds_started(s.rounds_started);
  response.set_rounds_finished(s.rounds_finished);
  response.set_running(s.running);
  response.set_complete(s.complete);
  response.set_exchanges_total(s.exchanges_total);
  response.set_exchanges_done(s.exchanges_done);
  response.set_exchanges_failed(s.exchanges_failed);
  response.set_hashes_compared(s.hashes_compared);
  response.set_keys_differing(s.keys_differing);
  response.set_keys_repaired(s.keys_repaired);
  response.set_tombstones_purged(s.tombstones_purged);
  response.set_bytes_received(s.bytes_received);
  response.set_bytes_sent(s.bytes_sent);
  response.set_last_error(s.last_error);
  if (s.last_complete_round != absl::InfinitePast()) {
    response.set_last_complete_round_age_ms(
        absl::ToInt64Milliseconds(node_->clock->Now() - s.last_complete_round));
  }
  return response;
}

}  // namespace quorumkv
