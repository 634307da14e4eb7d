// The page kvnode serves at /metrics (Prometheus text format 0.0.4): the
// counts of NodeMetrics, and what is read from the node at each scrape:
// its hints per home, its failure detector's state of each peer, hinted
// handoff and anti-entropy progress, repair marks, invariant failures,
// requests in flight, and RocksDB's own figures. docs/operations.md lists
// every metric.
#ifndef QUORUMKV_SERVER_METRICS_PAGE_H_
#define QUORUMKV_SERVER_METRICS_PAGE_H_

#include <atomic>
#include <map>
#include <string>

#include "replication/replica_node.h"
#include "server/metrics.h"

namespace quorumkv {

// What a scrape reads. Pointers are not owned; `node` and `storage` may be
// null (a node whose storage is not open yet).
struct MetricsSources {
  std::string node_id;
  const NodeMetrics* metrics = nullptr;
  ReplicaNode* node = nullptr;
  // RocksDB's integer properties, by name (RocksDbEngine::Properties).
  std::map<std::string, uint64_t> storage;
  int client_requests_in_flight = 0;
  uint64_t client_request_bytes_in_flight = 0;
  int replica_batches_in_flight = 0;
};

std::string RenderMetricsPage(const MetricsSources& sources);

}  // namespace quorumkv

#endif  // QUORUMKV_SERVER_METRICS_PAGE_H_
