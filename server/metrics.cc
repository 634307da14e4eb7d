#include "server/metrics.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"

namespace quorumkv {
namespace {

constexpr std::array<absl::string_view, 17> kCodeNames = {
    "ok",        "cancelled",      "unknown",           "invalid_argument",   "deadline_exceeded",
    "not_found", "already_exists", "permission_denied", "resource_exhausted", "failed_precondition",
    "aborted",   "out_of_range",   "unimplemented",     "internal",           "unavailable",
    "data_loss", "unauthenticated"};

std::string FormatValue(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  return absl::StrFormat("%.9g", value);
}

// Latencies: 0.5 ms to 10 s.
std::vector<double> LatencyBounds() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds, double sum_scale)
    : bounds_(std::move(bounds)),
      buckets_(new std::atomic<uint64_t>[bounds_.size()]),
      sum_scale_(sum_scale) {
  for (size_t i = 0; i < bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double value) {
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (value <= bounds_[i]) {
      buckets_[i].fetch_add(1, std::memory_order_relaxed);
      break;
    }
  }
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(static_cast<uint64_t>(std::max(0.0, value) * sum_scale_),
                 std::memory_order_relaxed);
}

void Histogram::Write(std::string* out, absl::string_view name, absl::string_view labels) const {
  const std::string sep = labels.empty() ? "" : ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    WriteSample(out, absl::StrCat(name, "_bucket"),
                absl::StrCat(labels, sep, Label("le", FormatValue(bounds_[i]))), cumulative);
  }
  const uint64_t count = count_.load(std::memory_order_relaxed);
  WriteSample(out, absl::StrCat(name, "_bucket"), absl::StrCat(labels, sep, Label("le", "+Inf")),
              std::max(count, cumulative));
  WriteSample(out, absl::StrCat(name, "_sum"), labels,
              static_cast<double>(sum_.load(std::memory_order_relaxed)) / sum_scale_);
  WriteSample(out, absl::StrCat(name, "_count"), labels, std::max(count, cumulative));
}

void WriteHeader(std::string* out, absl::string_view name, absl::string_view type,
                 absl::string_view help) {
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
}

void WriteSample(std::string* out, absl::string_view name, absl::string_view labels, double value) {
  if (labels.empty()) {
    absl::StrAppend(out, name, " ", FormatValue(value), "\n");
  } else {
    absl::StrAppend(out, name, "{", labels, "} ", FormatValue(value), "\n");
  }
}

std::string Label(absl::string_view key, absl::string_view value) {
  return absl::StrCat(key, "=\"",
                      absl::StrReplaceAll(value, {{"\\", "\\\\"}, {"\"", "\\\""}, {"\n", "\\n"}}),
                      "\"");
}

absl::string_view ClientOpName(ClientOp op) {
  switch (op) {
    case ClientOp::kGet:
      return "get";
    case ClientOp::kPut:
      return "put";
    case ClientOp::kDelete:
      return "delete";
    case ClientOp::kRing:
      return "ring";
    case ClientOp::kStatus:
      return "status";
    case ClientOp::kRepair:
      return "repair";
  }
  return "unknown";
}

absl::string_view ShedBoundName(ShedBound bound) {
  switch (bound) {
    case ShedBound::kClientRequests:
      return "client_requests";
    case ShedBound::kReplicaBatches:
      return "replica_batches";
    case ShedBound::kWorkerQueue:
      return "worker_queue";
    case ShedBound::kClientBytes:
      return "client_bytes";
    case ShedBound::kLinkDelayQueue:
      return "link_delay_queue";
  }
  return "unknown";
}

NodeMetrics::NodeMetrics()
    : siblings_({1, 2, 3, 4, 8, 16, 64}, 1),
      sync_latency_(LatencyBounds(), 1e9),
      sync_entries_({1, 2, 4, 8, 16, 32, 64, 128, 256, 1024}, 1) {
  for (int op = 0; op < kClientOps; ++op) {
    latency_.push_back(std::make_unique<Histogram>(LatencyBounds(), 1e9));
  }
}

void NodeMetrics::RequestDone(ClientOp op, grpc::StatusCode code, absl::Duration latency) {
  const int c = static_cast<int>(code);
  requests_[static_cast<int>(op)][c >= 0 && c < kCodes ? c : 2].fetch_add(
      1, std::memory_order_relaxed);
  latency_[static_cast<int>(op)]->Observe(absl::ToDoubleSeconds(latency));
}

namespace {

template <typename Counts>
void Count(Counts& counts, const v1::QuorumInfo& quorum) {
  counts.answered.fetch_add(1, std::memory_order_relaxed);
  if (quorum.strict_overlap()) counts.strict_overlap.fetch_add(1, std::memory_order_relaxed);
  if (quorum.fallbacks_size() > 0) {
    counts.with_fallbacks.fetch_add(1, std::memory_order_relaxed);
    counts.fallbacks.fetch_add(quorum.fallbacks_size(), std::memory_order_relaxed);
  }
  counts.replicas_failed.fetch_add(quorum.failed_size(), std::memory_order_relaxed);
}

}  // namespace

void NodeMetrics::ReadAnswered(const v1::QuorumInfo& quorum, int siblings) {
  Count(reads_, quorum);
  read_repairs_.fetch_add(quorum.repaired_size(), std::memory_order_relaxed);
  siblings_.Observe(siblings);
}

void NodeMetrics::WriteAnswered(const v1::QuorumInfo& quorum) { Count(writes_, quorum); }

void NodeMetrics::Shed(ShedBound bound) {
  shed_[static_cast<int>(bound)].fetch_add(1, std::memory_order_relaxed);
}

void NodeMetrics::SyncedWrite(size_t entries, absl::Duration latency) {
  sync_entries_.Observe(static_cast<double>(entries));
  sync_latency_.Observe(absl::ToDoubleSeconds(latency));
}

void NodeMetrics::Write(std::string* out) const {
  WriteHeader(out, "quorumkv_client_requests_total", "counter",
              "Client requests this node coordinated, by operation and gRPC status code.");
  for (int op = 0; op < kClientOps; ++op) {
    for (int code = 0; code < kCodes; ++code) {
      const uint64_t n = requests_[op][code].load(std::memory_order_relaxed);
      if (n == 0 && code != 0) continue;  // every op shows ok; other codes once seen
      WriteSample(out, "quorumkv_client_requests_total",
                  absl::StrCat(Label("op", ClientOpName(static_cast<ClientOp>(op))), ",",
                               Label("code", kCodeNames[code])),
                  n);
    }
  }
  WriteHeader(out, "quorumkv_client_request_duration_seconds", "histogram",
              "Time from a client request's arrival to its answer, by operation.");
  for (int op = 0; op < kClientOps; ++op) {
    latency_[op]->Write(out, "quorumkv_client_request_duration_seconds",
                        Label("op", ClientOpName(static_cast<ClientOp>(op))));
  }
  struct Family {
    absl::string_view name, help;
    std::atomic<uint64_t> QuorumCounts::*count;
  };
  const Family families[] = {
      {"quorumkv_quorum_answered_total",
       "Reads and writes answered with a quorum (kind: read or write).", &QuorumCounts::answered},
      {"quorumkv_quorum_strict_overlap_total",
       "Answered requests whose reply proves strict overlap (docs/consistency.md).",
       &QuorumCounts::strict_overlap},
      {"quorumkv_quorum_with_fallbacks_total",
       "Answered requests a fallback stood in for a home replica in (sloppy quorum).",
       &QuorumCounts::with_fallbacks},
      {"quorumkv_quorum_fallbacks_total",
       "Fallbacks used in place of home replicas, summed over answered requests.",
       &QuorumCounts::fallbacks},
      {"quorumkv_quorum_replicas_failed_total",
       "Replicas that failed or did not answer in time, over answered requests.",
       &QuorumCounts::replicas_failed},
  };
  for (const Family& f : families) {
    WriteHeader(out, f.name, "counter", f.help);
    WriteSample(out, f.name, Label("kind", "read"), (reads_.*f.count).load());
    WriteSample(out, f.name, Label("kind", "write"), (writes_.*f.count).load());
  }
  WriteHeader(out, "quorumkv_read_repairs_total", "counter",
              "Replicas sent a read repair by reads this node coordinated.");
  WriteSample(out, "quorumkv_read_repairs_total", "", read_repairs_.load());
  WriteHeader(out, "quorumkv_read_siblings", "histogram",
              "Siblings (concurrent values, tombstones included) per answered read.");
  siblings_.Write(out, "quorumkv_read_siblings", "");
  WriteHeader(out, "quorumkv_shed_requests_total", "counter",
              "Requests refused with RESOURCE_EXHAUSTED, by the bound that was full.");
  for (int b = 0; b < kShedBounds; ++b) {
    WriteSample(out, "quorumkv_shed_requests_total",
                Label("bound", ShedBoundName(static_cast<ShedBound>(b))), shed_[b].load());
  }
  WriteHeader(out, "quorumkv_storage_synced_write_duration_seconds", "histogram",
              "Synced (fsync) writes of the node's storage: one per write group.");
  sync_latency_.Write(out, "quorumkv_storage_synced_write_duration_seconds", "");
  WriteHeader(out, "quorumkv_storage_synced_write_entries", "histogram",
              "Entries per synced write: the write group's size, index entries included.");
  sync_entries_.Write(out, "quorumkv_storage_synced_write_entries", "");
}

}  // namespace quorumkv
