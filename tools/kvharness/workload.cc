#include "tools/kvharness/workload.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/session_read.h"
#include "replication/object_codec.h"

namespace quorumkv {
namespace {

// splitmix64: a small, seedable generator whose sequence is the same on
// every platform.
uint64_t NextRandom(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::string ErrorText(const absl::Status& status) {
  return absl::StrCat(absl::StatusCodeToString(status.code()), ": ", status.message());
}

SeenQuorum Seen(const v1::QuorumInfo& q) {
  SeenQuorum seen;
  seen.coordinator = q.coordinator();
  for (const v1::ReplicaAnswer& a : q.replied()) {
    seen.replied.push_back(a.node());
    if (!a.fallback()) ++seen.home_acks;
  }
  seen.fallbacks.assign(q.fallbacks().begin(), q.fallbacks().end());
  seen.repaired.assign(q.repaired().begin(), q.repaired().end());
  seen.strict_overlap = q.strict_overlap();
  seen.covers_w = q.covers_w();
  if (q.has_staleness_bound_ms()) seen.staleness_bound_ms = q.staleness_bound_ms();
  return seen;
}

Dot DotOf(const v1::Dot& dot) { return Dot{dot.actor(), dot.counter()}; }

// A value as the history records it: its unique name, without the padding
// (value_bytes), so that the history and the report stay small.
std::string ValueName(const std::string& value) { return value.substr(0, value.find('.')); }

VersionVector ContextOf(const std::string& bytes, const std::string& key) {
  absl::StatusOr<VersionVector> vv = DecodeContext(bytes, key);
  return vv.ok() ? *std::move(vv) : VersionVector();
}

// A write's failure: "fail" when nothing was written (refused before any
// replica wrote), "info" when some replica may have it.
Outcome WriteFailure(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
      return Outcome::kFail;
    default:
      return Outcome::kInfo;
  }
}

}  // namespace

std::vector<std::string> ScenarioKeys(const v1::ScenarioWorkload& workload) {
  std::vector<std::string> keys;
  const std::string prefix = workload.namespace_().empty() ? "" : workload.namespace_() + "/";
  for (uint32_t i = 0; i < workload.keys(); ++i) keys.push_back(absl::StrCat(prefix, "k", i));
  return keys;
}

Operation RecordedRead(KvClient& client, HistoryRecorder& recorder, int client_id,
                       const std::string& node, const std::string& key, const ReadOptions& options,
                       Session* session) {
  Operation op{.client = client_id,
               .kind = OpKind::kRead,
               .key = key,
               .node = node,
               .session = session != nullptr};
  op.id = recorder.Invoke(op);
  absl::StatusOr<v1::GetResponse> got = client.Get(key, options, session);
  if (session != nullptr) {
    std::optional<v1::SessionReadInfo> failed = SessionReadInfoOf(got.status());
    op.session_reads = got.ok() ? got->session().attempts() : failed ? failed->attempts() : 1;
  }
  if (got.ok()) {
    op.outcome = Outcome::kOk;
    op.found = got->found();
    for (const v1::Sibling& s : got->siblings()) {
      op.siblings.push_back(
          SeenSibling{ValueName(s.value()), s.tombstone(), DotOf(s.dot()), s.idempotency_key()});
    }
    op.read_context = ContextOf(got->context(), key);
    op.quorum = Seen(got->quorum());
  } else {
    op.outcome = Outcome::kFail;  // a read has no effect
    op.error = ErrorText(got.status());
    if (std::optional<v1::QuorumInfo> q = QuorumInfoOf(got.status())) op.quorum = Seen(*q);
  }
  recorder.Complete(op);
  return op;
}

WorkloadClient::WorkloadClient(int id, const std::vector<Route>& routes,
                               const v1::ScenarioWorkload& workload, uint64_t seed,
                               HistoryRecorder* recorder)
    : id_(id),
      workload_(workload),
      keys_(ScenarioKeys(workload)),
      recorder_(recorder),
      rng_state_(seed * 1000003 + static_cast<uint64_t>(id)) {
  for (const Route& route : routes) {
    // The scenario chooses each operation's coordinator: no routing by
    // key, no hedging to another node.
    KvClientOptions options{.endpoints = route.endpoints,
                            .timeout = absl::Milliseconds(workload.timeout_ms()),
                            .route_by_key = false,
                            .tls = route.tls};
    options.hedge.enabled = false;
    absl::StatusOr<std::unique_ptr<KvClient>> client = KvClient::Connect(std::move(options));
    clients_.push_back(*std::move(client));  // endpoints are never empty
    route_nodes_.push_back(route.node);
  }
  if (workload_.sessions()) session_.emplace();
}

size_t WorkloadClient::PickRoute() {
  return clients_.size() == 1 ? 0 : NextRandom(&rng_state_) % clients_.size();
}

void WorkloadClient::RunUntil(int64_t end_us) {
  const double total =
      workload_.read_weight() + workload_.write_weight() + workload_.delete_weight();
  while (recorder_->Now() < end_us) {
    route_ = PickRoute();
    const std::string& key = keys_[NextRandom(&rng_state_) % keys_.size()];
    const double pick = (NextRandom(&rng_state_) >> 11) * 0x1.0p-53 * total;
    if (pick < workload_.read_weight()) {
      Read(key);
    } else {
      Write(key, /*tombstone=*/pick >= workload_.read_weight() + workload_.write_weight());
    }
    absl::SleepFor(absl::Milliseconds(workload_.think_ms()));  // the workload's pace
  }
}

void WorkloadClient::Read(const std::string& key) {
  ReadOptions options{.r = workload_.r(), .strict = workload_.strict()};
  Operation op = RecordedRead(*clients_[route_], *recorder_, id_, route_nodes_[route_], key,
                              options, session_ ? &*session_ : nullptr);
  if (op.outcome == Outcome::kOk) contexts_[key] = EncodeContext(op.read_context, key);
}

std::string WorkloadClient::NextValue() { return absl::StrCat("c", id_, "-", ++writes_); }

std::string WorkloadClient::Padded(const std::string& name) const {
  std::string value = name;
  if (value.size() < workload_.value_bytes()) value.resize(workload_.value_bytes(), '.');
  return value;
}

void WorkloadClient::Write(const std::string& key, bool tombstone) {
  const std::string context = contexts_[key];
  Operation op{
      .client = id_,
      .kind = tombstone ? OpKind::kDelete : OpKind::kWrite,
      .key = key,
      .value = tombstone ? "" : NextValue(),
      .node = route_nodes_[route_],
      .context = ContextOf(context, key),
      // Unique in the run: the client may send the write twice.
      .idempotency_key = absl::StrCat("c", id_, "-op", ++write_ops_, "@", recorder_->Now()),
      .session = session_.has_value()};
  op.id = recorder_->Invoke(op);
  WriteOptions options{.w = workload_.w(),
                       .strict = workload_.strict(),
                       .context = context,
                       .blind = context.empty(),
                       .idempotency_key = op.idempotency_key};
  const std::string padded = Padded(op.value);
  Session* session = session_ ? &*session_ : nullptr;
  KvClient& client = *clients_[route_];
  absl::StatusOr<v1::PutResponse> put =
      tombstone ? client.Delete(key, options, session) : client.Put(key, padded, options, session);
  if (put.ok()) {
    op.outcome = Outcome::kOk;
    op.dot = DotOf(put->dot());
    op.quorum = Seen(put->quorum());
    contexts_[key] = put->context();
  } else {
    op.outcome = WriteFailure(put.status());
    op.error = ErrorText(put.status());
    if (std::optional<v1::QuorumInfo> q = QuorumInfoOf(put.status())) op.quorum = Seen(*q);
  }
  recorder_->Complete(op);
}

}  // namespace quorumkv
