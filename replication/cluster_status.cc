// ClusterStatus: each node's state as this node's failure detector sees it,
// and the hints the cluster holds for each node.
#include "replication/cluster_status.h"

#include <map>
#include <set>

#include "absl/synchronization/mutex.h"
#include "replication/transport.h"

namespace quorumkv {
namespace {

struct HintTotals {
  uint64_t count = 0;
  uint64_t bytes = 0;
  absl::Time oldest = absl::InfiniteFuture();
  uint64_t expired = 0;
};

// What a node said of its own repair marks.
struct RepairState {
  uint32_t partitions_marked = 0;
  bool lost_writes = false;
  uint64_t invariant_failures = 0;
  int64_t last_repair_round_age_ms = -1;  // -1: none
};

// What a status round gathered: hints per home node, each node's repair
// marks, and the peers the round's own ping found nothing listening at.
struct RoundResult {
  std::map<std::string, HintTotals> hints;
  std::map<std::string, RepairState> repair;
  std::set<std::string> unreachable;
};

// Gathers the answers of a status round; reports after the last.
class StatusRound {
 public:
  StatusRound(size_t pending, std::function<void(RoundResult)> done)
      : pending_(pending), done_(std::move(done)) {}

  void AddHints(const std::string& home, uint64_t count, uint64_t bytes, absl::Time oldest,
                uint64_t expired) {
    absl::MutexLock lock(&mu_);
    HintTotals& t = result_.hints[home];
    t.count += count;
    t.bytes += bytes;
    if (count > 0) t.oldest = std::min(t.oldest, oldest);
    t.expired += expired;
  }
  // What `node` answered to the round's ping: the hints it holds and its
  // repair marks.
  void AddPing(const std::string& node, const pb::PingResponse& ping) {
    for (const pb::HintSummaryProto& h : ping.hints()) {
      AddHints(h.home(), h.count(), h.bytes(), absl::FromUnixMillis(h.oldest_created_unix_ms()),
               h.expired());
    }
    absl::MutexLock lock(&mu_);
    result_.repair[node] = RepairState{ping.partitions_marked_for_repair(), ping.lost_writes(),
                                       ping.invariant_failures(), ping.last_repair_round_age_ms()};
  }
  void Unreachable(const std::string& node) {
    absl::MutexLock lock(&mu_);
    result_.unreachable.insert(node);
  }
  // One more node answered (or failed to).
  void Arrived() {
    RoundResult result;
    {
      absl::MutexLock lock(&mu_);
      if (--pending_ > 0) return;
      result = std::move(result_);
    }
    done_(std::move(result));
  }

 private:
  absl::Mutex mu_;
  size_t pending_ ABSL_GUARDED_BY(mu_);
  RoundResult result_ ABSL_GUARDED_BY(mu_);
  const std::function<void(RoundResult)> done_;
};

}  // namespace

void ClusterStatus::Report(std::function<void(pb::StatusResponse)> done) {
  std::vector<std::string> peers;
  for (const pb::NodeConfig& n : node_->config().nodes()) {
    if (n.id() != node_->self()) peers.push_back(n.id());
  }
  auto report = [this, done = std::move(done)](RoundResult round) {
    const absl::Time now = node_->clock->Now();
    pb::StatusResponse response;
    response.set_reporter(node_->self());
    response.set_replication_factor(node_->config().replication_factor());
    response.set_partitions(node_->ring.partition_count());
    for (const pb::NodeConfig& n : node_->config().nodes()) {
      pb::NodeStatus* s = response.add_nodes();
      s->set_id(n.id());
      s->set_address(n.address());
      // The detector's view, unless this very round found the node gone.
      const char* state = n.id() == node_->self() ? "up"
                          : round.unreachable.count(n.id()) > 0
                              ? "down"
                              : PeerStateName(node_->detector.StateOf(n.id(), now));
      s->set_state(state);
      if (n.id() != node_->self()) {
        const PeerHealth health = node_->detector.HealthOf(n.id(), now);
        s->set_recent_median_ms(absl::ToDoubleMilliseconds(health.recent_median));
        s->set_baseline_p99_ms(absl::ToDoubleMilliseconds(health.baseline_p99));
      }
      for (uint32_t p = 0; p < node_->ring.partition_count(); ++p) {
        if (node_->ring.Owner(p) == n.id()) s->set_partitions(s->partitions() + 1);
      }
      if (auto r = round.repair.find(n.id()); r != round.repair.end()) {
        s->set_partitions_marked_for_repair(r->second.partitions_marked);
        s->set_lost_writes(r->second.lost_writes);
        s->set_invariant_failures(r->second.invariant_failures);
        if (r->second.last_repair_round_age_ms >= 0) {
          s->set_last_repair_round_age_ms(r->second.last_repair_round_age_ms);
        }
      }
      auto it = round.hints.find(n.id());
      if (it == round.hints.end()) continue;
      s->set_hints_expired(it->second.expired);
      if (it->second.count == 0) continue;
      s->set_hints_pending(it->second.count);
      s->set_hint_bytes(it->second.bytes);
      s->set_oldest_hint_age_ms(absl::ToInt64Milliseconds(now - it->second.oldest));
    }
    done(std::move(response));
  };
  auto round = std::make_shared<StatusRound>(peers.size() + 1, std::move(report));
  const pb::PingResponse own = protocol_->HandlePing(pb::PingRequest());
  round->AddPing(node_->self(), own);
  round->Arrived();
  pb::PingRequest ping;
  ping.set_from(node_->self());
  const absl::Time deadline = node_->clock->Now() + kStatusPingTimeout;
  for (const std::string& peer : peers) {
    node_->transport.Ping(peer, ping, deadline,
                          [round, peer](absl::StatusOr<pb::PingResponse> reply) {
                            if (reply.ok()) {
                              round->AddPing(peer, *reply);
                            } else if (IsNotSent(reply.status())) {
                              round->Unreachable(peer);
                            }
                            round->Arrived();
                          });
  }
}

}  // namespace quorumkv
