// ReplicaNode's get path: fan-out reads, the reply after R answers, and read
// repair of the replicas that lacked something of the merge.
#include <map>

#include "absl/synchronization/mutex.h"
#include "replication/get_coordinator.h"
#include "replication/object_codec.h"
#include "replication/replica_node.h"
#include "replication/request_validation.h"

namespace quorumkv {
namespace {

// The work one reply leaves for the driver to do outside the lock.
struct GetStep {
  std::vector<std::string> repair_targets;
  pb::ReplicaWriteRequest repair;
  bool repairs_block_reply = false;  // the reply waits for these repairs
  bool finish = false;
  absl::Status status;
  pb::GetResponse response;
};

// Owns a GetCoordinator; decides when to reply and whom to repair.
class GetOperation {
 public:
  GetOperation(GetPlan plan, pb::ReadRepairMode mode, ReplicaNode::GetDone done)
      : key_(plan.key), coordinator_(std::move(plan)), mode_(mode), done_(std::move(done)) {}

  GetStep OnReply(const std::string& from, const absl::StatusOr<std::optional<Object>>& reply,
                  absl::Time now) {
    absl::MutexLock lock(&mu_);
    coordinator_.OnReply(from, reply, now);
    GetStep step;
    if (!decided_ && coordinator_.decided()) {
      Decide(step);
    } else if (decided_ && coordinator_.all_answered() && mode_ != pb::READ_REPAIR_OFF &&
               status_.ok()) {
      AddRepairs(step);  // late replies may have shown more stale replicas
    }
    return step;
  }

  // A blocking repair finished; returns the step that replies once all did.
  GetStep OnRepairDone() {
    absl::MutexLock lock(&mu_);
    GetStep step;
    if (--blocking_repairs_ == 0) TakeReply(step);
    return step;
  }

  void Finish(GetStep& step) {
    if (step.finish) done_(step.status, std::move(step.response));
  }

 private:
  void Decide(GetStep& step) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    decided_ = true;
    status_ = coordinator_.outcome();
    response_.set_key(key_);
    *response_.mutable_quorum() = coordinator_.quorum();
    if (!status_.ok()) return TakeReply(step);
    FillGetResponse(coordinator_.merged(), &response_);
    if (mode_ == pb::READ_REPAIR_OFF) return TakeReply(step);
    AddRepairs(step);
    for (const std::string& node : step.repair_targets)
      response_.mutable_quorum()->add_repaired(node);
    if (mode_ == pb::READ_REPAIR_BLOCKING && !step.repair_targets.empty()) {
      blocking_repairs_ = step.repair_targets.size();
      step.repairs_block_reply = true;
      return;
    }
    TakeReply(step);
  }

  // Targets every stale replica not yet sent the current merge.
  void AddRepairs(GetStep& step) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const Object& merged = coordinator_.merged();
    for (const std::string& node : coordinator_.StaleReplicas()) {
      auto it = repaired_with_.find(node);
      if (it != repaired_with_.end() && it->second == merged) continue;
      repaired_with_[node] = merged;
      step.repair_targets.push_back(node);
    }
    if (step.repair_targets.empty()) return;
    step.repair.set_key(key_);
    ToProto(merged, step.repair.mutable_object());
  }

  void TakeReply(GetStep& step) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    step.finish = true;
    step.status = status_;
    step.response = response_;
  }

  const std::string key_;
  absl::Mutex mu_;
  GetCoordinator coordinator_ ABSL_GUARDED_BY(mu_);
  const pb::ReadRepairMode mode_;
  bool decided_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  pb::GetResponse response_ ABSL_GUARDED_BY(mu_);
  size_t blocking_repairs_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, Object> repaired_with_ ABSL_GUARDED_BY(mu_);
  ReplicaNode::GetDone done_;  // called once, by the step that has finish set
};

absl::StatusOr<std::optional<Object>> ToReply(
    const absl::StatusOr<pb::ReplicaReadResponse>& reply) {
  if (!reply.ok()) return reply.status();
  if (!reply->found()) return std::optional<Object>();
  absl::StatusOr<Object> object = FromProto(reply->object());
  if (!object.ok()) return object.status();
  return std::optional<Object>(std::move(*object));
}

}  // namespace

void ReplicaNode::Get(const pb::GetRequest& request, absl::Time deadline, GetDone done) {
  absl::Status valid = ValidateGetRequest(config(), request);
  if (!valid.ok()) {
    pb::GetResponse response;
    response.set_key(request.key());
    response.mutable_quorum()->set_coordinator(self());
    return done(valid, response);
  }
  const PreferenceList& pref = ring_.ForKey(request.key());
  const pb::ReadRepairMode mode = config().read_repair();
  auto op = std::make_shared<GetOperation>(GetPlan{.key = request.key(),
                                                   .self = self(),
                                                   .home = pref.home,
                                                   .r = EffectiveR(config(), request),
                                                   .default_w = config().default_w(),
                                                   .policy = PolicyFor(request.key()),
                                                   .start = clock_->Now()},
                                           mode, std::move(done));

  const absl::Time replica_deadline = ReplicaDeadline(deadline);
  // Repairs that hold up the reply share its deadline; the others get a
  // replica timeout of their own.
  const absl::Duration repair_timeout = absl::Milliseconds(config().replica_timeout_ms());
  Transport* transport = transport_;
  Clock* clock = clock_;
  // Sends a step's repairs, then replies if the step says so. Repairs of the
  // local replica go through the transport too, so that no store write runs
  // on a transport callback thread.
  std::function<void(GetStep)> run = [op, transport, clock, repair_timeout,
                                      replica_deadline](GetStep step) {
    const bool blocking = step.repairs_block_reply;
    const absl::Time repair_deadline = blocking ? replica_deadline : clock->Now() + repair_timeout;
    for (const std::string& target : step.repair_targets) {
      transport->Write(target, step.repair, repair_deadline,
                       [op, blocking](absl::StatusOr<pb::ReplicaWriteResponse>) {
                         if (!blocking) return;
                         GetStep after = op->OnRepairDone();
                         op->Finish(after);
                       });
    }
    op->Finish(step);
  };

  // `request` belongs to the caller, who may free it as soon as the reply
  // is sent, which the local read below can trigger: copy what is needed.
  pb::ReplicaReadRequest read;
  read.set_key(request.key());
  read.set_from(self());
  // The local replica first: it answers in microseconds, and a quorum that
  // fails on unreachable peers then still reports it.
  if (ring_.IsHome(read.key(), self())) {
    run(op->OnReply(self(), store_->Read(read.key()), clock_->Now()));
  }
  for (const std::string& target : pref.home) {
    if (target == self()) continue;
    transport_->Read(target, read, replica_deadline,
                     [op, target, clock, run](absl::StatusOr<pb::ReplicaReadResponse> reply) {
                       run(op->OnReply(target, ToReply(reply), clock->Now()));
                     });
  }
}

}  // namespace quorumkv
