// PutPath: a node's put path: validation, forwarding, the local write and the
// fan-out to the other home replicas.
#include "replication/put_path.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "replication/cluster_config.h"
#include "replication/context_check.h"
#include "replication/log_episode.h"
#include "replication/logging.h"
#include "replication/object_codec.h"
#include "replication/put_coordinator.h"
#include "replication/request_validation.h"
#include "replication/status_macros.h"
#include "replication/transport.h"

namespace quorumkv {

struct PutPath::LocalWrite {
  Object stored;
  Dot dot;
  VersionVector before;  // the replica's context just before the write
};

// A put this node coordinates, from its checks to its local write.
struct PutPath::CoordinatedPut {
  pb::PutRequest request;
  VersionVector context;  // decoded from the request
  PreferenceList pref;
  uint32_t w = 0;
  absl::Time start;
  absl::Time deadline;
  pb::PutResponse response;
  Done done;
  // The other home replicas were asked what they have seen of the key
  // (context_check.h), and answered `homes`.
  bool homes_asked = false;
  HomesSeen homes;
};

struct PutPath::ForwardState {
  pb::CoordinatePutRequest request;
  std::vector<std::string> candidates;  // home replicas, tried in order
  size_t next = 0;
  std::vector<std::string> errors;
  absl::Time call_deadline;
  Done done;
};

namespace {

bool Contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// Adding a sibling (a value or a tombstone) past the limit is refused; a
// write that resolves siblings is always let through.
absl::Status CheckSiblingLimit(const Object& before, const Object& after, absl::string_view key,
                               LogEpisode* many_siblings, absl::Time now) {
  const size_t count = after.siblings.size();
  if (count <= before.siblings.size()) return absl::OkStatus();
  if (count > kMaxSiblings) {
    return absl::FailedPreconditionError(
        absl::StrCat("too many siblings, resolve first: the key has ", before.siblings.size(),
                     " concurrent values and tombstones (limit ", kMaxSiblings,
                     "); write with the context of a get to replace them"));
  }
  if (count >= kSiblingWarnThreshold) {
    many_siblings->Occurred(now, {{"key", key},
                                  {"siblings", count},
                                  {"warn_at", kSiblingWarnThreshold},
                                  {"refused_past", kMaxSiblings}});
  }
  return absl::OkStatus();
}

absl::Status CheckObjectSize(const Object& after, uint64_t limit) {
  const size_t bytes = ValueBytes(after);
  if (bytes > limit) {
    return absl::FailedPreconditionError(absl::StrCat("the key's siblings would hold ", bytes,
                                                      " bytes, over max_object_bytes=", limit,
                                                      "; resolve siblings first"));
  }
  return absl::OkStatus();
}

// Owns a put's coordinator; sends its writes and runs `done` once it
// decides. Replies and replacements may arrive on any thread.
class PutOperation : public std::enable_shared_from_this<PutOperation> {
 public:
  PutOperation(PutPlan plan, pb::PutResponse response, PutPath::Done done, Transport* transport,
               Clock* clock, absl::Time replica_deadline)
      : may_fall_back_(plan.sloppy && !plan.pref.fallbacks.empty()),
        coordinator_(std::move(plan)),
        response_(std::move(response)),
        done_(std::move(done)),
        transport_(transport),
        clock_(clock),
        replica_deadline_(replica_deadline) {}

  void Start() {
    std::vector<SlotSend> sends;
    {
      absl::MutexLock lock(&mu_);
      sends = coordinator_.Start();
    }
    for (const SlotSend& send : sends) Send(send);
    MaybeFinish();
  }

 private:
  void Send(const SlotSend& send) {
    pb::ReplicaWriteRequest request;
    {
      absl::MutexLock lock(&mu_);
      request = coordinator_.request();
    }
    request.set_hinted_for(send.hinted_for);
    auto self = shared_from_this();
    const absl::Time deadline =
        AttemptDeadline(send, may_fall_back_, clock_->Now(), replica_deadline_);
    transport_->Write(send.to, request, deadline,
                      [self, to = send.to](absl::StatusOr<pb::ReplicaWriteResponse> reply) {
                        std::optional<SlotSend> next;
                        {
                          absl::MutexLock lock(&self->mu_);
                          next =
                              self->coordinator_.OnReply(to, reply.status(), self->clock_->Now());
                        }
                        if (next) self->Send(*next);
                        self->MaybeFinish();
                      });
  }

  // Calls `done` if the outcome is decided and it has not been called yet.
  void MaybeFinish() {
    PutPath::Done done;
    absl::Status status;
    {
      absl::MutexLock lock(&mu_);
      if (!done_ || !coordinator_.decided()) return;
      done = std::move(done_);
      done_ = nullptr;
      status = coordinator_.outcome();
      *response_.mutable_quorum() = coordinator_.quorum();
    }
    done(status, response_);
  }

  const bool may_fall_back_;
  absl::Mutex mu_;
  PutCoordinator coordinator_ ABSL_GUARDED_BY(mu_);
  pb::PutResponse response_;  // written once, under mu_, before done_ is taken
  PutPath::Done done_ ABSL_GUARDED_BY(mu_);
  Transport* const transport_;
  Clock* const clock_;
  const absl::Time replica_deadline_;
};

}  // namespace

void PutPath::Put(const pb::PutRequest& request, absl::Time deadline, Done done) {
  CoordinatePut(request, deadline, /*forwarded=*/false, std::move(done));
}

void PutPath::HandleCoordinatePut(const pb::CoordinatePutRequest& request, absl::Time deadline,
                                  std::function<void(pb::CoordinatePutResponse)> done) {
  CoordinatePut(request.put(), deadline, /*forwarded=*/true,
                [done = std::move(done)](absl::Status status, pb::PutResponse response) {
                  pb::CoordinatePutResponse reply;
                  StatusToProto(status, reply.mutable_outcome());
                  *reply.mutable_response() = std::move(response);
                  done(std::move(reply));
                });
}

void PutPath::CoordinatePut(const pb::PutRequest& request, absl::Time deadline, bool forwarded,
                            Done done) {
  pb::PutResponse response;
  response.set_key(request.key());
  response.mutable_quorum()->set_coordinator(node_->self());
  absl::Status valid = ValidatePutRequest(node_->config(), request);
  if (!valid.ok()) return done(valid, response);
  absl::StatusOr<VersionVector> context = DecodeContext(request.context(), request.key());
  if (!context.ok()) return done(context.status(), response);

  const PreferenceList& pref = node_->ring.ForKey(request.key());
  if (!Contains(pref.home, node_->self())) {
    if (forwarded) {
      return done(absl::FailedPreconditionError(absl::StrCat(
                      "put forwarded to ", node_->self(),
                      ", which is not a home replica of the key (do the nodes share one config?)")),
                  response);
    }
    auto state = std::make_shared<ForwardState>();
    *state->request.mutable_put() = request;
    state->request.set_from(node_->self());
    state->candidates = ForwardCandidates(pref.home);
    // The home replica coordinates until then; this node answers after.
    state->call_deadline = node_->ReplicaDeadline(deadline);
    state->done = std::move(done);
    return ForwardPut(std::move(state));
  }

  const uint32_t w = EffectiveW(node_->config(), request);
  if (request.strict()) {
    absl::Status reachable =
        node_->CheckStrictQuorumReachable(pref.home, w, "W", "nothing written");
    if (!reachable.ok()) {
      response.mutable_quorum()->set_required(w);
      response.mutable_quorum()->set_n(static_cast<uint32_t>(pref.home.size()));
      return done(reachable, response);
    }
  }
  const absl::Time start = node_->clock->Now();
  if (start >= deadline) {
    // It waited in a queue past its deadline: better not to start it.
    return done(
        absl::DeadlineExceededError("deadline passed before the put started; nothing was written"),
        response);
  }
  WriteAndReplicate(std::make_shared<CoordinatedPut>(CoordinatedPut{.request = request,
                                                                    .context = *std::move(context),
                                                                    .pref = pref,
                                                                    .w = w,
                                                                    .start = start,
                                                                    .deadline = deadline,
                                                                    .response = std::move(response),
                                                                    .done = std::move(done)}));
}

void PutPath::WriteAndReplicate(std::shared_ptr<CoordinatedPut> put) {
  ApplyLocalWrite(put, [this, put](absl::StatusOr<LocalWrite> local) {
    // ABORTED: the context names writes this replica has not seen, and the
    // other home replicas were not asked yet (CheckUnseen). Nothing written.
    if (local.status().code() == absl::StatusCode::kAborted && !put->homes_asked) {
      return CheckContextThenWrite(put);
    }
    if (!local.ok()) return put->done(local.status(), put->response);
    pb::PutResponse& response = put->response;
    ToProto(local->dot, response.mutable_dot());
    response.set_context(EncodeContext(ContextAfterWrite(put->context, local->before, local->dot),
                                       put->request.key()));
    auto op = std::make_shared<PutOperation>(
        PutPlan{.key = put->request.key(),
                .self = node_->self(),
                .pref = put->pref,
                .w = put->w,
                .min_w = MinWFor(node_->config(), put->request.key()),
                .default_r = node_->config().default_r(),
                .sloppy = !put->request.strict(),
                .healthy = node_->HealthyFn(),
                .stored = std::move(local->stored),
                .start = put->start},
        std::move(response), std::move(put->done), &node_->transport, node_->clock,
        node_->ReplicaDeadline(put->deadline));
    op->Start();
  });
}

void PutPath::CheckContextThenWrite(std::shared_ptr<CoordinatedPut> put) {
  AskHomesWhatTheySaw(&node_->transport, node_->self(), put->request.key(), put->pref.home,
                      node_->ReplicaDeadline(put->deadline), [this, put](HomesSeen homes) {
                        put->homes_asked = true;
                        put->homes = std::move(homes);
                        WriteAndReplicate(put);
                      });
}

absl::Status PutPath::CheckUnseen(const std::vector<Dot>& unseen, const CoordinatedPut& put) const {
  const std::string where =
      absl::StrCat(" (", unseen.size() == 1 ? "" : absl::StrCat(unseen.size(), " entries, e.g. "),
                   DotToString(unseen.front()), ")");
  RETURN_IF_ERROR(CheckUnseenActors(node_->config(), unseen));
  for (const Dot& dot : unseen) {
    if (dot.actor != node_->store->actor()) continue;
    // This node's own writes of the key always reach its replica first.
    return absl::InvalidArgumentError(
        absl::StrCat("context claims dot ", DotToString(dot), ", which ", node_->self(),
                     " never issued for this key: pass the context a get of this key returned"));
  }
  if (!put.homes_asked) return absl::AbortedError(absl::StrCat("context not checked yet", where));
  if (put.homes.all_answered) {
    return absl::InvalidArgumentError(absl::StrCat(
        "context names writes no home replica of the key has seen", where,
        ": not a context this cluster issued; pass the context a get of this key returned"));
  }
  return absl::UnavailableError(
      absl::StrCat("cannot check the context: it names writes ", node_->self(), " has not seen",
                   where, ", and not every other home replica answered; nothing written"));
}

void PutPath::ApplyLocalWrite(std::shared_ptr<const CoordinatedPut> put,
                              std::function<void(absl::StatusOr<LocalWrite>)> done) {
  auto result = std::make_shared<LocalWrite>();
  auto write = [this, result, put, policy = node_->PolicyFor(put->request.key())](
                   const std::optional<Object>& current) -> absl::StatusOr<Object> {
    // It waited for its group past its deadline: the client has given up.
    if (node_->clock->Now() >= put->deadline) {
      return absl::DeadlineExceededError(
          "deadline passed while the put waited to be written; nothing was written");
    }
    const Object local = current.value_or(Object());
    // Every entry of the context must name a write this replica, or (once
    // asked) another home replica, has seen: a forged one must not be stored.
    VersionVector seen = local.context;
    seen.Merge(put->homes.seen);
    if (std::vector<Dot> unseen = UnseenBy(seen, put->context); !unseen.empty()) {
      return CheckUnseen(unseen, *put);
    }
    result->before = local.context;
    // Issued under the key's lock: this actor's dots reach its replica of
    // the key in counter order.
    ASSIGN_OR_RETURN(result->dot, node_->store->IssueDot());
    RETURN_IF_ERROR(CheckFreshDot(local, put->context, result->dot));
    // The new write's timestamp follows every write this replica has seen.
    for (const Sibling& s : local.siblings) node_->hlc.Observe(s.hlc);
    Object next = ApplyWrite(policy, local, put->context,
                             Sibling{.dot = result->dot,
                                     .hlc = node_->hlc.Now(),
                                     .tombstone = put->request.tombstone(),
                                     .value = put->request.value(),
                                     .idempotency_key = put->request.idempotency_key()});
    RETURN_IF_ERROR(CheckObjectInvariants(next));
    RETURN_IF_ERROR(CheckSiblingLimit(local, next, put->request.key(), &node_->many_siblings_log,
                                      node_->clock->Now()));
    RETURN_IF_ERROR(CheckObjectSize(next, node_->config().max_object_bytes()));
    return next;
  };
  node_->write_group.Submit(put->request.key(), std::move(write),
                            [result, done = std::move(done)](absl::StatusOr<Object> stored) {
                              if (!stored.ok()) return done(stored.status());
                              result->stored = std::move(*stored);
                              done(std::move(*result));
                            });
}

void PutPath::ForwardPut(std::shared_ptr<ForwardState> state) {
  if (state->next == state->candidates.size()) {
    pb::PutResponse response;
    response.set_key(state->request.put().key());
    response.mutable_quorum()->set_coordinator(node_->self());
    return state->done(absl::UnavailableError(absl::StrCat(
                           "no home replica of the key could coordinate the put (",
                           absl::StrJoin(state->errors, "; "), "); nothing was written")),
                       response);
  }
  const std::string to = state->candidates[state->next++];
  node_->transport.CoordinatePut(
      to, state->request, state->call_deadline,
      [this, state, to](absl::StatusOr<pb::CoordinatePutResponse> reply) {
        const absl::Status outcome =
            reply.ok() ? StatusFromProto(reply->outcome()) : reply.status();
        // Only a put that provably wrote nothing may go to another home
        // replica: one that was applied would be applied twice. Such are a
        // put that never left this node, and one the home replica shed or
        // could not write (RESOURCE_EXHAUSTED: an overloaded node sheds a
        // call before handling it; a coordinator answers it only when its
        // own write failed, before it sent anything).
        if (IsNotSent(outcome) || outcome.code() == absl::StatusCode::kResourceExhausted) {
          state->errors.push_back(absl::StrCat(to, ": ", outcome.message()));
          return ForwardPut(state);
        }
        if (reply.ok()) return state->done(outcome, std::move(*reply->mutable_response()));
        pb::PutResponse response;
        response.set_key(state->request.put().key());
        response.mutable_quorum()->set_coordinator(to);
        const bool unknown = OutcomeUnknown(reply.status());
        state->done(
            absl::Status(
                unknown ? absl::StatusCode::kDeadlineExceeded : reply.status().code(),
                absl::StrCat("forwarded to coordinator ", to, ": ", reply.status().message(),
                             unknown ? " (outcome unknown)" : "")),
            response);
      });
}

std::vector<std::string> PutPath::ForwardCandidates(const std::vector<std::string>& home) const {
  std::vector<std::string> candidates = home;
  const QuorumSlots::Healthy healthy = node_->HealthyFn();
  std::stable_partition(candidates.begin(), candidates.end(), healthy);
  return candidates;
}

}  // namespace quorumkv
