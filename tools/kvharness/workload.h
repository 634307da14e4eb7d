// The clients of a scenario run: each a thread of reads, writes and deletes
// on a small key space, every operation recorded in the history as it is
// invoked and as it completes. A client writes with the context of its own
// last read (or write) of the key, as an application doing read-modify-
// write would; clients that race make siblings. Every value written is
// unique ("c<client>-<n>", padded with '.' to value_bytes; the history
// records the name), so the checker can tell them apart.
#ifndef QUORUMKV_TOOLS_KVHARNESS_WORKLOAD_H_
#define QUORUMKV_TOOLS_KVHARNESS_WORKLOAD_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/kv_client.h"
#include "proto/scenario.pb.h"
#include "tools/kvharness/history.h"

namespace quorumkv {

// The workload's keys: "k0".."k<keys-1>", under "<namespace>/" if it has one.
std::vector<std::string> ScenarioKeys(const v1::ScenarioWorkload& workload);

// Reads `key` through `client` and records it in `recorder` as client
// `client_id` asking `node` first; in `session` if not null.
Operation RecordedRead(KvClient& client, HistoryRecorder& recorder, int client_id,
                       const std::string& node, const std::string& key, const ReadOptions& options,
                       Session* session = nullptr);

// One client of the workload. Not thread-safe: one thread runs it.
class WorkloadClient {
 public:
  // A way to the cluster: the nodes' client endpoints in the order tried,
  // and the first one's id.
  struct Route {
    std::string node;
    std::vector<std::string> endpoints;
    TlsFiles tls;  // the cluster's client certificate; empty: plaintext
  };
  // Each operation takes one of `routes` (at random if several). `recorder`
  // must outlive this.
  WorkloadClient(int id, const std::vector<Route>& routes, const v1::ScenarioWorkload& workload,
                 uint64_t seed, HistoryRecorder* recorder);

  // Runs operations until the recorder's clock reaches `end_us`.
  void RunUntil(int64_t end_us);

 private:
  void Read(const std::string& key);
  void Write(const std::string& key, bool tombstone);
  // "c<id>-<n>": the name of the next value, as the history records it.
  std::string NextValue();
  // `name` padded with '.' to the workload's value_bytes: what is written.
  std::string Padded(const std::string& name) const;

  // The route of the next operation.
  size_t PickRoute();

  const int id_;
  std::vector<std::string> route_nodes_;  // by route: the node asked first
  const v1::ScenarioWorkload workload_;
  const std::vector<std::string> keys_;
  HistoryRecorder* const recorder_;
  std::vector<std::unique_ptr<KvClient>> clients_;  // by route
  size_t route_ = 0;                                // of the operation running
  uint64_t rng_state_;
  int64_t writes_ = 0;
  std::map<std::string, std::string> contexts_;  // key -> context bytes of the last reply
  std::optional<Session> session_;               // with workload.sessions
  uint64_t write_ops_ = 0;                       // puts and deletes sent
};

}  // namespace quorumkv

#endif  // QUORUMKV_TOOLS_KVHARNESS_WORKLOAD_H_
