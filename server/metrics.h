// kvnode's Prometheus metrics (docs/operations.md lists each, with what a
// bad value means). NodeMetrics holds what the node counts as calls pass
// (client requests by operation and outcome, their latencies, quorum
// outcomes, read repairs, siblings per read, shed requests, synced storage
// writes); metrics_page.h adds what is read from the node at each scrape
// (hints, peers, anti-entropy, RocksDB) and renders the text format.
//
// Thread-safe: every count is an atomic, so recording costs a few relaxed
// increments on the call's own thread and never waits for a scrape.
#ifndef QUORUMKV_SERVER_METRICS_H_
#define QUORUMKV_SERVER_METRICS_H_

#include <grpcpp/grpcpp.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/kv.pb.h"

namespace quorumkv {

// A Prometheus histogram with fixed bucket bounds. Lock-free.
class Histogram {
 public:
  // Observed values are summed as integers of value * `sum_scale` (1e9 for
  // seconds: nanoseconds, exact, overflowing after centuries of latency; 1
  // for counts).
  Histogram(std::vector<double> bounds, double sum_scale);
  void Observe(double value);
  // Appends `name`_bucket/_sum/_count lines; `labels` is "" or
  // `key="value",...` (without braces).
  void Write(std::string* out, absl::string_view name, absl::string_view labels) const;

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // one per bound (cumulative on Write)
  std::atomic<uint64_t> count_{0};
  const double sum_scale_;
  std::atomic<uint64_t> sum_{0};  // of value * sum_scale_
};

// Appends "# HELP name help\n# TYPE name type\n".
void WriteHeader(std::string* out, absl::string_view name, absl::string_view type,
                 absl::string_view help);
// Appends "name{labels} value\n" (no braces when `labels` is empty).
void WriteSample(std::string* out, absl::string_view name, absl::string_view labels, double value);
// `key="value"` with the value escaped as the text format wants.
std::string Label(absl::string_view key, absl::string_view value);

enum class ClientOp { kGet, kPut, kDelete, kRing, kStatus, kRepair };
inline constexpr int kClientOps = 6;
absl::string_view ClientOpName(ClientOp op);

// The bounds a node sheds at (services.h, worker_pool.h, grpc_transport.h).
enum class ShedBound {
  kClientRequests,  // kMaxClientRequestsInFlight
  kReplicaBatches,  // kMaxReplicaBatchesInFlight
  kWorkerQueue,     // a worker pool's queue (writer, replica, repair)
  kLinkDelayQueue,  // injected link delays held
  kClientBytes,     // max_request_bytes_in_flight
};
inline constexpr int kShedBounds = 5;
absl::string_view ShedBoundName(ShedBound bound);

class NodeMetrics {
 public:
  NodeMetrics();

  // A client request answered with `code`, `latency` after it arrived.
  void RequestDone(ClientOp op, grpc::StatusCode code, absl::Duration latency);
  // The quorum of an answered get (with the siblings it returned), or of
  // an answered put or delete.
  void ReadAnswered(const v1::QuorumInfo& quorum, int siblings);
  void WriteAnswered(const v1::QuorumInfo& quorum);
  void Shed(ShedBound bound);
  // A synced write of the node's storage: `entries` writes in one batch
  // (the size of a write group, with its index entries), taking `latency`.
  void SyncedWrite(size_t entries, absl::Duration latency);

  // Appends the text format of every metric above.
  void Write(std::string* out) const;

 private:
  static constexpr int kCodes = 17;  // grpc::StatusCode 0..16
  struct QuorumCounts {
    std::atomic<uint64_t> answered{0};
    std::atomic<uint64_t> strict_overlap{0};
    std::atomic<uint64_t> with_fallbacks{0};
    std::atomic<uint64_t> fallbacks{0};
    std::atomic<uint64_t> replicas_failed{0};
  };
  std::array<std::array<std::atomic<uint64_t>, kCodes>, kClientOps> requests_{};
  std::vector<std::unique_ptr<Histogram>> latency_;  // by op
  QuorumCounts reads_;
  QuorumCounts writes_;
  std::atomic<uint64_t> read_repairs_{0};
  Histogram siblings_;
  std::array<std::atomic<uint64_t>, kShedBounds> shed_{};
  Histogram sync_latency_;
  Histogram sync_entries_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_SERVER_METRICS_H_
