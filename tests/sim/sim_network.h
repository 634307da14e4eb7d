// The simulated network: per-message delay, drop and duplication, and
// directed link blocks (so partitions can be asymmetric). Each node talks
// through a SimTransport, the Transport of replication/ for the simulator.
#ifndef QUORUMKV_TESTS_SIM_SIM_NETWORK_H_
#define QUORUMKV_TESTS_SIM_SIM_NETWORK_H_

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>

#include "replication/call_batcher.h"
#include "replication/transport.h"
#include "tests/sim/recorder.h"
#include "tests/sim/sim_world.h"

namespace quorumkv::sim {

class SimNode;
struct Recorder;

struct LinkFaults {
  double drop = 0;       // chance a message (request or reply) is lost
  double duplicate = 0;  // chance a request is delivered twice
  absl::Duration min_delay = absl::Microseconds(100);
  absl::Duration max_delay = absl::Milliseconds(2);
};

// Not thread-safe (one world, one thread).
class SimNetwork {
 public:
  explicit SimNetwork(SimWorld* world) : world_(world) {}

  void Attach(SimNode* node);
  SimNode* Find(const std::string& id) const;

  void SetFaults(const LinkFaults& faults) { faults_ = faults; }
  // Messages from `from` to `to` vanish (a blackhole; calls time out).
  void Block(const std::string& from, const std::string& to);
  void HealAll();
  bool Blocked(const std::string& from, const std::string& to) const;
  std::string DescribeBlocks() const;

  // Carries one call from `from` to `to`: the request after a random delay
  // (unless lost), `handle` runs at the target and answers through its
  // callback, the answer comes back the same way. `done` runs exactly once:
  // with the answer, UNAVAILABLE if the target is down (connection refused),
  // or DEADLINE_EXCEEDED at `deadline` (a time of `from`'s clock) — unless
  // `from` crashed meanwhile, in which case it never runs (its process is
  // gone). Only `idempotent` calls may be delivered twice: TCP never
  // duplicates a request, but a retrying layer might, and merges must not
  // care.
  template <typename Response>
  void Call(const std::string& from, const std::string& to, absl::Time deadline, bool idempotent,
            std::function<void(SimNode&, std::function<void(absl::StatusOr<Response>)>)> handle,
            Transport::Callback<Response> done);

  SimWorld* world() { return world_; }

  // The recorder, which transports tell which simulated operation a
  // forwarded put belongs to.
  void SetRecorder(Recorder* recorder) { recorder_ = recorder; }
  Recorder* recorder() { return recorder_; }

 private:
  absl::Duration Delay(const std::string& from, const std::string& to);
  bool Lost(const std::string& from, const std::string& to);

  SimWorld* const world_;
  std::map<std::string, SimNode*> nodes_;
  std::set<std::pair<std::string, std::string>> blocked_;
  LinkFaults faults_;
  Recorder* recorder_ = nullptr;
};

// The Transport of one simulated node. Reads and writes to a peer are
// batched as kvnode's are (call_batcher.h).
class SimTransport : public Transport {
 public:
  // `clock`: the node's own (batchers time their calls with it).
  SimTransport(std::string self, SimNetwork* network, Clock* clock)
      : self_(std::move(self)), network_(network), clock_(clock) {
    Restart();
  }

  // A new life of the node: the calls of the former one never return, so
  // the batchers waiting for them start afresh.
  void Restart();

  void Read(const std::string& to, const pb::ReplicaReadRequest& request, absl::Time deadline,
            Callback<pb::ReplicaReadResponse> done) override;
  void Write(const std::string& to, const pb::ReplicaWriteRequest& request, absl::Time deadline,
             Callback<pb::ReplicaWriteResponse> done) override;
  void CoordinatePut(const std::string& to, const pb::CoordinatePutRequest& request,
                     absl::Time deadline, Callback<pb::CoordinatePutResponse> done) override;
  void Ping(const std::string& to, const pb::PingRequest& request, absl::Time deadline,
            Callback<pb::PingResponse> done) override;
  void Exchange(const std::string& to, const pb::ExchangeRequest& request, absl::Time deadline,
                Callback<pb::ExchangeResponse> done) override;

 private:
  // `done`, run with the recorder's current operation set to the one
  // current now: what the node does on the answer (a dot it issues after
  // checking a context with other replicas, say) belongs to that operation.
  // The call's end is recorded for that operation as `end` (its ok and
  // found filled in from the answer).
  template <typename Response>
  Callback<Response> InOperation(Callback<Response> done, Recorder::CallEnd end);
  // Serves a batch of reads at `target`, as kvnode does, and checks each
  // answer against what the target holds (invariant 9).
  static pb::ReplicaReadBatchResponse ServeReads(SimNode& target,
                                                 const pb::ReplicaReadBatchRequest& request,
                                                 Recorder* recorder);

  const std::string self_;
  SimNetwork* const network_;
  Clock* const clock_;
  std::unique_ptr<ReadBatcher> reads_;
  std::unique_ptr<WriteBatcher> writes_;
};

}  // namespace quorumkv::sim

#endif  // QUORUMKV_TESTS_SIM_SIM_NETWORK_H_
