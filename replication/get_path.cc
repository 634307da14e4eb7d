// GetPath: a node's get path: fan-out reads (fallbacks standing in for
// unhealthy home replicas in a sloppy get), the reply after R answers, and
// read repair of the home replicas that lacked something of the merge.
#include "replication/get_path.h"

#include <map>

#include "absl/synchronization/mutex.h"
#include "replication/cluster_config.h"
#include "replication/get_coordinator.h"
#include "replication/object_codec.h"
#include "replication/request_validation.h"

namespace quorumkv {
namespace {

absl::StatusOr<std::optional<Object>> ToReply(
    const absl::StatusOr<pb::ReplicaReadResponse>& reply) {
  if (!reply.ok()) return reply.status();
  if (!reply->found()) return std::optional<Object>();
  absl::StatusOr<Object> object = FromProto(reply->object());
  if (!object.ok()) return object.status();
  return std::optional<Object>(std::move(*object));
}

ReplicaReadNotes NotesOf(const absl::StatusOr<pb::ReplicaReadResponse>& reply) {
  ReplicaReadNotes notes;
  if (!reply.ok()) return notes;
  notes.may_lack_writes = reply->may_lack_writes();
  if (reply->has_watermark_age_us()) {
    notes.watermark_age = absl::Microseconds(std::max<int64_t>(0, reply->watermark_age_us()));
  }
  return notes;
}

// True if a read that fails may be followed by a fallback standing in (a
// sloppy get with fallbacks).
bool MayFallBack(const GetPlan& plan) { return plan.sloppy && !plan.pref.fallbacks.empty(); }

// True if a read of the first wave that fails may be followed by another:
// a fallback, or a spare home replica (a get that asks R of more than R
// home replicas first).
bool MayAskAnother(const GetPlan& plan) {
  return MayFallBack(plan) || (!plan.read_all && plan.r < plan.pref.home.size());
}

// What one reply leaves to do outside the lock.
struct GetStep {
  std::optional<SlotSend> read;  // a fallback to ask in place of a failed home
  std::vector<std::string> repair_targets;
  pb::ReplicaWriteRequest repair;
  bool repairs_block_reply = false;  // the reply waits for these repairs
  bool finish = false;
  absl::Status status;
  pb::GetResponse response;
};

struct GetIo {
  Transport* transport;
  Clock* clock;
  absl::Time replica_deadline;
  // Repairs that do not hold up the reply get a replica timeout of their own.
  absl::Duration repair_timeout;
};

// Owns a GetCoordinator: sends the reads, decides when to reply and whom
// to repair. Replies may arrive on any thread.
class GetOperation : public std::enable_shared_from_this<GetOperation> {
 public:
  GetOperation(GetPlan plan, pb::ReadRepairMode mode, GetPath::Done done, GetIo io)
      : key_(plan.key),
        self_(plan.self),
        may_ask_another_(MayAskAnother(plan)),
        may_fall_back_(MayFallBack(plan)),
        coordinator_(std::move(plan)),
        mode_(mode),
        done_(std::move(done)),
        io_(io) {}

  // Reads the replicas; `local` answers for this node's own replica, if it
  // is a home replica (nullopt otherwise), and `local_notes` says what
  // that replica says of its answer (ReplicaReadNotes).
  void Start(std::optional<absl::StatusOr<std::optional<Object>>> local,
             const ReplicaReadNotes& local_notes) {
    std::vector<SlotSend> sends;
    {
      absl::MutexLock lock(&mu_);
      sends = coordinator_.Start();
    }
    // The local replica first: it answers in microseconds, and a quorum
    // that fails on unreachable peers then still reports it.
    if (local) Run(OnReply(self_, *local, local_notes));
    for (const SlotSend& send : sends) Read(send, /*first_wave=*/true);
  }

 private:
  // A read of the first wave leaves time for a spare or a fallback after
  // it; a later one (itself a spare or a fallback) only for a fallback.
  void Read(const SlotSend& send, bool first_wave) {
    pb::ReplicaReadRequest request;
    request.set_key(key_);
    request.set_from(self_);
    request.set_hinted_for(send.hinted_for);
    auto self = shared_from_this();
    const absl::Time deadline =
        AttemptDeadline(send, first_wave ? may_ask_another_ : may_fall_back_, io_.clock->Now(),
                        io_.replica_deadline);
    io_.transport->Read(send.to, request, deadline,
                        [self, to = send.to](absl::StatusOr<pb::ReplicaReadResponse> reply) {
                          self->Run(self->OnReply(to, ToReply(reply), NotesOf(reply)));
                        });
  }

  GetStep OnReply(const std::string& from, const absl::StatusOr<std::optional<Object>>& reply,
                  const ReplicaReadNotes& notes) {
    absl::MutexLock lock(&mu_);
    GetStep step;
    step.read = coordinator_.OnReply(from, reply, io_.clock->Now(), notes);
    if (!decided_ && coordinator_.decided()) {
      Decide(step);
    } else if (decided_ && coordinator_.all_answered() && mode_ != pb::READ_REPAIR_OFF &&
               status_.ok()) {
      AddRepairs(step);  // late replies may have shown more stale replicas
    }
    return step;
  }

  // Sends a step's read and repairs, then replies if the step says so.
  // Repairs of the local replica go through the transport too, so that no
  // store write runs on a transport callback thread.
  void Run(GetStep step) {
    if (step.read) Read(*step.read, /*first_wave=*/false);
    const bool blocking = step.repairs_block_reply;
    const absl::Time repair_deadline =
        blocking ? io_.replica_deadline : io_.clock->Now() + io_.repair_timeout;
    auto self = shared_from_this();
    for (const std::string& target : step.repair_targets) {
      io_.transport->Write(target, step.repair, repair_deadline,
                           [self, blocking](absl::StatusOr<pb::ReplicaWriteResponse>) {
                             if (blocking) self->Run(self->OnRepairDone());
                           });
    }
    if (step.finish) done_(step.status, std::move(step.response));
  }

  // A blocking repair finished; returns the step that replies once all did.
  GetStep OnRepairDone() {
    absl::MutexLock lock(&mu_);
    GetStep step;
    if (--blocking_repairs_ == 0) TakeReply(step);
    return step;
  }

  void Decide(GetStep& step) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    decided_ = true;
    status_ = coordinator_.outcome();
    response_.set_key(key_);
    *response_.mutable_quorum() = coordinator_.quorum();
    if (!status_.ok()) return TakeReply(step);
    FillGetResponse(coordinator_.merged(), &response_);
    if (mode_ == pb::READ_REPAIR_OFF) return TakeReply(step);
    AddRepairs(step);
    for (const std::string& node : step.repair_targets) {
      response_.mutable_quorum()->add_repaired(node);
    }
    if (mode_ == pb::READ_REPAIR_BLOCKING && !step.repair_targets.empty()) {
      blocking_repairs_ = step.repair_targets.size();
      step.repairs_block_reply = true;
      return;
    }
    TakeReply(step);
  }

  // Targets every stale home replica not yet sent the current merge.
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
    step.repair.set_from(self_);
    ToProto(merged, step.repair.mutable_object());
  }

  void TakeReply(GetStep& step) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    step.finish = true;
    step.status = status_;
    step.response = response_;
  }

  const std::string key_;
  const std::string self_;
  // A failed read may be followed by another (MayAskAnother, MayFallBack):
  // the reads before it then leave it time.
  const bool may_ask_another_;
  const bool may_fall_back_;
  absl::Mutex mu_;
  GetCoordinator coordinator_ ABSL_GUARDED_BY(mu_);
  const pb::ReadRepairMode mode_;
  bool decided_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  pb::GetResponse response_ ABSL_GUARDED_BY(mu_);
  size_t blocking_repairs_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, Object> repaired_with_ ABSL_GUARDED_BY(mu_);
  const GetPath::Done done_;  // called once, by the step that has finish set
  const GetIo io_;
};

}  // namespace

void GetPath::Get(const pb::GetRequest& request, absl::Time deadline, Done done) {
  absl::Status valid = ValidateGetRequest(node_->config(), request);
  if (!valid.ok()) {
    pb::GetResponse response;
    response.set_key(request.key());
    response.mutable_quorum()->set_coordinator(node_->self());
    return done(valid, response);
  }
  const PreferenceList& pref = node_->ring.ForKey(request.key());
  const uint32_t r = EffectiveR(node_->config(), request);
  if (request.strict()) {
    absl::Status reachable =
        node_->CheckStrictQuorumReachable(pref.home, r, "R", "no replica was asked");
    if (!reachable.ok()) {
      pb::GetResponse response;
      response.set_key(request.key());
      response.mutable_quorum()->set_coordinator(node_->self());
      response.mutable_quorum()->set_required(r);
      response.mutable_quorum()->set_n(static_cast<uint32_t>(pref.home.size()));
      return done(reachable, response);
    }
  }
  auto op = std::make_shared<GetOperation>(
      GetPlan{.key = request.key(),
              .self = node_->self(),
              .pref = pref,
              .r = r,
              .min_w = MinWFor(node_->config(), request.key()),
              .policy = node_->PolicyFor(request.key()),
              .sloppy = !request.strict(),
              .read_all = node_->config().read_all_replicas(),
              .healthy = node_->HealthyFn(),
              .start = node_->clock->Now()},
      node_->config().read_repair(), std::move(done),
      GetIo{.transport = &node_->transport,
            .clock = node_->clock,
            .replica_deadline = node_->ReplicaDeadline(deadline),
            .repair_timeout = absl::Milliseconds(node_->config().replica_timeout_ms())});
  // `request` belongs to the caller, who may free it as soon as the reply
  // is sent, which Start can trigger: nothing below touches it.
  std::optional<absl::StatusOr<std::optional<Object>>> local;
  ReplicaReadNotes local_notes;
  if (node_->ring.IsHome(request.key(), node_->self())) {
    local_notes.watermark_age = node_->WatermarkAgeOf(request.key());  // before the read
    local = node_->store->Read(request.key());
    local_notes.may_lack_writes = node_->MayLackWrites(request.key());
  }
  op->Start(std::move(local), local_notes);
}

void FillGetResponse(const Object& merged, pb::GetResponse* response) {
  // The context is bound to response->key(), which callers set first.
  bool found = false;
  response->clear_siblings();
  for (const Sibling* s : ShownSiblings(merged)) {
    found |= !s->tombstone;
    ToProto(*s, response->add_siblings());
  }
  response->set_found(found);
  response->set_context(EncodeContext(merged.context, response->key()));
}

}  // namespace quorumkv
