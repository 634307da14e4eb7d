// ReplicaProtocol: a node's side of the replica protocol: reads and merges asked by a
// coordinator, for a key this node is home for or holds a hint of.
#include "replication/replica_protocol.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "replication/invariant.h"
#include "replication/object_codec.h"
#include "replication/request_validation.h"
#include "replication/status_macros.h"

namespace quorumkv {
namespace {

// A fallback keeps hints only for keys whose home replicas it stands in for.
absl::Status CheckHintFor(const Ring& ring, const std::string& self, const std::string& home,
                          const std::string& key) {
  if (ring.IsHome(key, home) && !ring.IsHome(key, self)) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(self, " cannot keep a hint of this key for ",
                                                    home, " (do the nodes share one config?)"));
}

// The merge a replica or a hint applies: Sync under the key's policy,
// refused past kMergedObjectFactor x max_object_bytes.
absl::StatusOr<Object> MergeBounded(MergePolicy policy, const std::optional<Object>& current,
                                    const Object& incoming, uint64_t limit) {
  Object merged = Sync(policy, current.value_or(Object()), incoming);
  if (ValueBytes(merged) > limit) {
    return absl::FailedPreconditionError(
        absl::StrCat("merged siblings would hold ", ValueBytes(merged), " bytes, over ",
                     kMergedObjectFactor, " x max_object_bytes; resolve siblings first"));
  }
  return merged;
}

// A write batch's reply: one result per write, in order.
pb::ReplicaWriteBatchResponse BatchResponse(const std::vector<absl::Status>& outcomes) {
  pb::ReplicaWriteBatchResponse response;
  for (const absl::Status& outcome : outcomes) StatusToProto(outcome, response.add_results());
  return response;
}

}  // namespace

absl::StatusOr<std::optional<Object>> ReplicaProtocol::MergedHintsOf(const std::string& key) {
  ASSIGN_OR_RETURN(auto hints, node_->hints->ReadAllHomes(key));
  const absl::Time now = node_->clock->Now();
  std::optional<Object> merged;
  for (const auto& [home, hint] : hints) {
    // What handoff would never deliver is not served either (it could hold
    // a value whose tombstone was purged since): dropped now, counted.
    if (node_->handoff.DropIfExpired(home, key, now)) continue;
    merged = Sync(node_->PolicyFor(key), merged ? *merged : Object(), hint);
  }
  return merged;
}

absl::StatusOr<pb::ReplicaReadResponse> ReplicaProtocol::HandleRead(
    const pb::ReplicaReadRequest& request) {
  RETURN_IF_ERROR(ValidateKey(node_->config(), request.key()));
  std::optional<Object> object;
  std::optional<absl::Duration> watermark_age;
  if (request.hinted_for().empty()) {
    // A node that is not home would answer "not found" for a key it never
    // held, and that answer would count toward R.
    RETURN_IF_ERROR(node_->CheckHome(request.key()));
    watermark_age = node_->WatermarkAgeOf(request.key());  // before the read
    ASSIGN_OR_RETURN(object, node_->store->Read(request.key()));
  } else {
    RETURN_IF_ERROR(CheckHintFor(node_->ring, node_->self(), request.hinted_for(), request.key()));
    ASSIGN_OR_RETURN(object, MergedHintsOf(request.key()));
  }
  pb::ReplicaReadResponse response;
  response.set_found(object.has_value());
  if (object) ToProto(*object, response.mutable_object());
  if (request.hinted_for().empty())
    response.set_may_lack_writes(node_->MayLackWrites(request.key()));
  if (watermark_age) response.set_watermark_age_us(absl::ToInt64Microseconds(*watermark_age));
  return response;
}

pb::ReplicaReadBatchResponse ReplicaProtocol::HandleReadBatch(
    const pb::ReplicaReadBatchRequest& request) {
  // A reply holds at most this much before its last read, and one object
  // of the largest size the config allows fits after it (MaxMessageBytes).
  const uint64_t budget = std::min(node_->config().max_object_bytes(), kMaxReadBatchReplyBytes);
  pb::ReplicaReadBatchResponse response;
  uint64_t bytes = 0;
  for (const pb::ReplicaReadRequest& read : request.reads()) {
    pb::ReplicaReadResult* out = response.add_results();
    if (bytes >= budget) {
      out->set_not_run(true);
      continue;
    }
    absl::StatusOr<pb::ReplicaReadResponse> result = HandleRead(read);
    StatusToProto(result.status(), out);
    if (result.ok()) *out->mutable_response() = std::move(*result);
    bytes += out->ByteSizeLong();
  }
  return response;
}

absl::StatusOr<pb::ReplicaWriteResponse> ReplicaProtocol::HandleWrite(
    const pb::ReplicaWriteRequest& request) {
  pb::ReplicaWriteBatchRequest batch;
  *batch.add_writes() = request;
  RETURN_IF_ERROR(StatusFromProto(HandleWriteBatch(batch).results(0)));
  return pb::ReplicaWriteResponse();
}

pb::ReplicaWriteBatchResponse ReplicaProtocol::HandleWriteBatch(
    const pb::ReplicaWriteBatchRequest& request) {
  const int n = request.writes_size();
  std::vector<absl::Status> outcomes(n);
  std::vector<Object> incoming(n);
  std::vector<int> replica_writes;  // merged into this node's replicas together
  for (int i = 0; i < n; ++i) {
    const pb::ReplicaWriteRequest& write = request.writes(i);
    absl::StatusOr<Object> decoded = CheckWrite(write);
    if (!decoded.ok()) {
      outcomes[i] = decoded.status();
    } else if (write.hinted_for().empty()) {
      incoming[i] = std::move(*decoded);
      replica_writes.push_back(i);
    } else {
      outcomes[i] = MergeIntoHint(write.hinted_for(), write.key(), *decoded);
    }
  }
  MergeIntoReplicas(request, replica_writes, std::move(incoming), &outcomes);
  return BatchResponse(outcomes);
}

absl::StatusOr<Object> ReplicaProtocol::CheckWrite(const pb::ReplicaWriteRequest& write) {
  RETURN_IF_ERROR(ValidateKey(node_->config(), write.key()));
  ASSIGN_OR_RETURN(Object incoming, FromProto(write.object()));
  if (write.hinted_for().empty()) {
    RETURN_IF_ERROR(node_->CheckHome(write.key()));
  } else {
    RETURN_IF_ERROR(CheckHintFor(node_->ring, node_->self(), write.hinted_for(), write.key()));
  }
  RETURN_IF_ERROR(node_->issued_dots.Check(incoming, node_->store->actor(), node_->store->Lease(),
                                           node_->clock->Steady()));
  for (const Sibling& s : incoming.siblings) node_->hlc.Observe(s.hlc);
  return incoming;
}

bool ReplicaProtocol::CarriesHints(const pb::ReplicaWriteBatchRequest& request) {
  return std::any_of(request.writes().begin(), request.writes().end(),
                     [](const pb::ReplicaWriteRequest& w) { return !w.hinted_for().empty(); });
}

namespace {

// The merges of one MergeWriteBatch still to be done: the reply goes
// once the last is. Thread-safe.
class PendingWriteBatch {
 public:
  // `outcomes` holds those of the writes not merged; `merges` are left.
  PendingWriteBatch(std::vector<absl::Status> outcomes, size_t merges,
                    std::function<void(pb::ReplicaWriteBatchResponse)> done)
      : outcomes_(std::move(outcomes)), left_(merges), done_(std::move(done)) {}

  // Records the outcome of merge i; replies if it was the last.
  void Done(int i, absl::Status outcome) {
    pb::ReplicaWriteBatchResponse response;
    {
      absl::MutexLock lock(&mu_);
      if (!QKV_INVARIANT_STATUS(left_ > 0, "a merge of a write batch answered twice").ok()) {
        return;
      }
      outcomes_[i] = std::move(outcome);
      if (--left_ > 0) return;
      response = BatchResponse(outcomes_);
    }
    done_(std::move(response));
  }

 private:
  absl::Mutex mu_;
  std::vector<absl::Status> outcomes_ ABSL_GUARDED_BY(mu_);
  size_t left_ ABSL_GUARDED_BY(mu_);
  const std::function<void(pb::ReplicaWriteBatchResponse)> done_;
};

}  // namespace

void ReplicaProtocol::MergeWriteBatch(const pb::ReplicaWriteBatchRequest& request,
                                      std::function<void(pb::ReplicaWriteBatchResponse)> done) {
  const int n = request.writes_size();
  std::vector<absl::Status> outcomes(n);
  std::vector<std::pair<int, Object>> merges;
  for (int i = 0; i < n; ++i) {
    const pb::ReplicaWriteRequest& write = request.writes(i);
    outcomes[i] = QKV_INVARIANT_STATUS(write.hinted_for().empty(),
                                       "a write for a hint reached the write groups");
    if (!outcomes[i].ok()) continue;
    absl::StatusOr<Object> decoded = CheckWrite(write);
    if (!decoded.ok()) {
      outcomes[i] = decoded.status();
    } else {
      merges.emplace_back(i, std::move(*decoded));
    }
  }
  if (merges.empty()) return done(BatchResponse(outcomes));
  auto pending =
      std::make_shared<PendingWriteBatch>(std::move(outcomes), merges.size(), std::move(done));
  for (auto& [i, object] : merges) {
    const std::string& key = request.writes(i).key();
    node_->write_group.Submit(
        key, ReplicaMerge(key, std::move(object)),
        [pending, i = i](absl::StatusOr<Object> stored) { pending->Done(i, stored.status()); });
  }
}

WriteGroup::Mutate ReplicaProtocol::ReplicaMerge(const std::string& key, Object incoming) const {
  return [policy = node_->PolicyFor(key), incoming = std::move(incoming),
          limit = kMergedObjectFactor *
                  node_->config().max_object_bytes()](const std::optional<Object>& current) {
    return MergeBounded(policy, current, incoming, limit);
  };
}

void ReplicaProtocol::MergeIntoReplicas(const pb::ReplicaWriteBatchRequest& request,
                                        const std::vector<int>& which, std::vector<Object> incoming,
                                        std::vector<absl::Status>* outcomes) {
  if (which.empty()) return;
  std::vector<WriteGroup::Mutate> merges;
  merges.reserve(which.size());  // the updates below refer to them
  std::vector<ReplicaStore::KeyUpdate> updates;
  for (int i : which) {
    const std::string& key = request.writes(i).key();
    merges.push_back(ReplicaMerge(key, std::move(incoming[i])));
    updates.push_back(ReplicaStore::KeyUpdate{key, merges.back()});
  }
  std::vector<absl::StatusOr<Object>> results = node_->store->UpdateBatch(updates);
  for (size_t j = 0; j < which.size(); ++j) (*outcomes)[which[j]] = results[j].status();
}

absl::Status ReplicaProtocol::MergeIntoHint(const std::string& home, const std::string& key,
                                            const Object& incoming) {
  const uint64_t limit = kMergedObjectFactor * node_->config().max_object_bytes();
  const MergePolicy policy = node_->PolicyFor(key);
  const HintLimits limits{.max_bytes = node_->config().max_hint_bytes_per_target(),
                          .max_count = node_->config().max_hints_per_target()};
  return node_->hints
      ->Update(home, key, limits, node_->clock->Now(),
               [&](const std::optional<Object>& current) {
                 return MergeBounded(policy, current, incoming, limit);
               })
      .status();
}

pb::PingResponse ReplicaProtocol::HandlePing(const pb::PingRequest& request) {
  pb::PingResponse response;
  response.set_node(node_->self());
  response.set_hlc(node_->hlc.Now());
  response.set_actor(node_->store->actor());
  const DotLease lease = node_->store->Lease();
  response.set_dot_ceiling(lease.ceiling);
  response.set_dot_lease_block(lease.block);
  node_->issued_dots.Heard(request.from(), request.actor(),
                           {.ceiling = request.dot_ceiling(), .block = request.dot_lease_block()},
                           node_->clock->Steady());
  response.set_holds_data(node_->store->HoldsData());
  response.set_invariant_failures(InvariantViolations());
  const int64_t round_us = node_->last_complete_repair_round_us.load();
  response.set_last_repair_round_age_ms(
      round_us == INT64_MIN
          ? -1
          : absl::ToInt64Milliseconds(node_->clock->Now() - absl::FromUnixMicros(round_us)));
  if (!request.actor().empty()) {
    response.set_you_held_data(
        node_->peers_holding_data.HeldUnderAnotherActor(request.from(), request.actor()));
    if (request.holds_data()) node_->peers_holding_data.Saw(request.actor());
  }
  for (const HintSummary& s : node_->hints->Summarize()) {
    pb::HintSummaryProto* h = response.add_hints();
    h->set_home(s.home);
    h->set_count(s.count);
    h->set_bytes(s.bytes);
    if (s.count > 0) h->set_oldest_created_unix_ms(absl::ToUnixMillis(s.oldest));
    h->set_expired(s.expired);
  }
  absl::StatusOr<std::vector<uint32_t>> marked = node_->store->PartitionsMarkedForRepair();
  if (marked.ok()) {
    const bool every = std::find(marked->begin(), marked->end(), kEveryPartition) != marked->end();
    response.set_lost_writes(every);
    response.set_partitions_marked_for_repair(every ? node_->ring.partition_count()
                                                    : static_cast<uint32_t>(marked->size()));
  }
  return response;
}

}  // namespace quorumkv
