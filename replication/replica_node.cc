#include "replication/replica_node.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "replication/cluster_config.h"
#include "replication/object_codec.h"
#include "replication/request_validation.h"
#include "replication/status_macros.h"

namespace quorumkv {

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
      transport_(transport),
      clock_(clock),
      hlc_(clock) {}

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

absl::Status ReplicaNode::CheckHome(const std::string& key) const {
  if (ring_.IsHome(key, self())) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(self(), " is not a home replica of the key (do the nodes share one config?)"));
}

absl::StatusOr<pb::ReplicaReadResponse> ReplicaNode::HandleRead(
    const pb::ReplicaReadRequest& request) {
  RETURN_IF_ERROR(ValidateKey(config(), request.key()));
  // A node that is not home would answer "not found" for a key it never
  // held, and that answer would count toward R.
  RETURN_IF_ERROR(CheckHome(request.key()));
  ASSIGN_OR_RETURN(std::optional<Object> object, store_->Read(request.key()));
  pb::ReplicaReadResponse response;
  response.set_found(object.has_value());
  if (object) ToProto(*object, response.mutable_object());
  return response;
}

absl::StatusOr<pb::ReplicaWriteResponse> ReplicaNode::HandleWrite(
    const pb::ReplicaWriteRequest& request) {
  RETURN_IF_ERROR(ValidateKey(config(), request.key()));
  RETURN_IF_ERROR(CheckHome(request.key()));
  ASSIGN_OR_RETURN(Object incoming, FromProto(request.object()));
  for (const Sibling& s : incoming.siblings) hlc_.Observe(s.hlc);
  RETURN_IF_ERROR(MergeIntoReplica(request.key(), incoming));
  return pb::ReplicaWriteResponse();
}

absl::Status ReplicaNode::MergeIntoReplica(const std::string& key, const Object& incoming) {
  const MergePolicy policy = PolicyFor(key);
  const uint64_t limit = kMergedObjectFactor * config().max_object_bytes();
  return store_
      ->Update(key,
               [&](const std::optional<Object>& current) -> absl::StatusOr<Object> {
                 Object merged = Sync(policy, current.value_or(Object()), incoming);
                 if (ValueBytes(merged) > limit) {
                   return absl::FailedPreconditionError(absl::StrCat(
                       "merged siblings would hold ", ValueBytes(merged), " bytes, over ",
                       kMergedObjectFactor, " x max_object_bytes; resolve siblings first"));
                 }
                 return merged;
               })
      .status();
}

pb::PingResponse ReplicaNode::HandlePing(const pb::PingRequest&) {
  pb::PingResponse response;
  response.set_node(self());
  response.set_hlc(hlc_.Now());
  return response;
}

namespace {

// Collects the answers of a status round; reports when the last one is in.
struct StatusRound {
  absl::Mutex mu;
  pb::StatusResponse response ABSL_GUARDED_BY(mu);
  size_t pending ABSL_GUARDED_BY(mu) = 0;
  std::function<void(pb::StatusResponse)> done;

  void Answer(size_t index, bool up) {
    pb::StatusResponse finished;
    {
      absl::MutexLock lock(&mu);
      response.mutable_nodes(static_cast<int>(index))->set_state(up ? "up" : "down");
      if (--pending > 0) return;
      finished = response;
    }
    done(std::move(finished));
  }
};

}  // namespace

void ReplicaNode::Status(std::function<void(pb::StatusResponse)> done) {
  auto round = std::make_shared<StatusRound>();
  round->done = std::move(done);
  std::vector<std::string> peers;
  {
    absl::MutexLock lock(&round->mu);
    round->response.set_reporter(self());
    round->response.set_replication_factor(config().replication_factor());
    round->response.set_partitions(ring_.partition_count());
    for (const pb::NodeConfig& n : config().nodes()) {
      pb::NodeStatus* s = round->response.add_nodes();
      s->set_id(n.id());
      s->set_address(n.address());
      s->set_state("up");
      for (uint32_t p = 0; p < ring_.partition_count(); ++p) {
        if (ring_.Owner(p) == n.id()) s->set_partitions(s->partitions() + 1);
      }
      peers.push_back(n.id());
    }
    round->pending = peers.size();
  }
  const absl::Time deadline = clock_->Now() + kStatusPingTimeout;
  pb::PingRequest ping;
  ping.set_from(self());
  for (size_t i = 0; i < peers.size(); ++i) {
    if (peers[i] == self()) {
      round->Answer(i, true);
      continue;
    }
    transport_->Ping(peers[i], ping, deadline,
                     [round, i](absl::StatusOr<pb::PingResponse> r) { round->Answer(i, r.ok()); });
  }
}

void FillGetResponse(const Object& merged, pb::GetResponse* response) {
  // The context is bound to response->key(), which callers set first.
  response->set_found(LiveSiblingCount(merged) > 0);
  response->clear_siblings();
  for (const Sibling& s : merged.siblings) ToProto(s, response->add_siblings());
  response->set_context(EncodeContext(merged.context, response->key()));
}

}  // namespace quorumkv
