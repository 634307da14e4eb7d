// A store kvbench measures: it starts the store's processes on loopback in
// a directory of its own, hands out clients, and tears everything down.
#ifndef QUORUMKV_TOOLS_KVBENCH_TARGET_H_
#define QUORUMKV_TOOLS_KVBENCH_TARGET_H_

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "proto/config.pb.h"

namespace quorumkv::bench {

// One worker's connection. Not thread-safe: one per worker thread.
class TargetClient {
 public:
  virtual ~TargetClient() = default;
  // OK with the value (empty if the key has none), or the failure.
  virtual absl::Status Read(const std::string& key) = 0;
  // A durable overwrite, as the target's configuration defines durable.
  virtual absl::Status Update(const std::string& key, const std::string& value) = 0;
};

// A client whose operations complete on a gRPC completion queue: kvbench
// then drives every worker from the one thread that calls Run, each
// worker's next operation starting when its last one ends, instead of a
// thread per worker blocked in a call (which costs the machine the servers
// share about twice the CPU per operation). Not thread-safe: every method
// runs on the thread that calls Run, or before it.
class AsyncTargetClient {
 public:
  using Done = std::function<void(absl::Status)>;
  virtual ~AsyncTargetClient() = default;
  // As TargetClient's, for worker `worker` (0 <= worker < the count the
  // client was made for); `done` runs on Run's thread.
  virtual void Read(int worker, const std::string& key, Done done) = 0;
  virtual void Update(int worker, const std::string& key, const std::string& value, Done done) = 0;
  // Runs `fn` on Run's thread at `when` (open-loop pacing).
  virtual void At(absl::Time when, std::function<void()> fn) = 0;
  // Runs completions until no operation and no At is pending.
  virtual void Run() = 0;
};

// One anti-entropy round of one node, as kvbench --repair-missing measures it.
struct RepairMeasure {
  absl::Duration elapsed;
  uint64_t exchanges = 0;  // (partition, peer) pairs compared
  uint64_t hashes_compared = 0;
  uint64_t keys_differing = 0;
  uint64_t keys_repaired = 0;
  uint64_t bytes_received = 0;
  uint64_t bytes_sent = 0;
  bool complete = false;
};

class Target {
 public:
  virtual ~Target() = default;
  virtual std::string name() const = 0;
  // What runs, with which durability: one line for the report.
  virtual std::string description() const = 0;
  // Starts the store's processes with data under `dir` (created, and
  // wiped first). Returns once the store takes requests.
  virtual absl::Status Start(const std::string& dir) = 0;
  virtual absl::StatusOr<std::unique_ptr<TargetClient>> NewClient() = 0;
  // A client for `workers` workers at once, or UNIMPLEMENTED: kvbench then
  // runs a thread per worker with NewClient.
  virtual absl::StatusOr<std::unique_ptr<AsyncTargetClient>> NewAsyncClient(int /*workers*/) {
    return absl::UnimplementedError(absl::StrCat(name(), " has no asynchronous client"));
  }
  // After Start: writes keys KeyName(0..keys-1) with value_of(i) straight
  // into the store's storage (stopping and restarting its processes),
  // counting each key written to each server in `*written` (progress).
  // UNIMPLEMENTED where the store has no such path: kvbench then loads
  // through the API.
  virtual absl::Status LoadDirectly(uint64_t /*keys*/,
                                    const std::function<std::string(uint64_t)>& /*value_of*/,
                                    std::atomic<uint64_t>* /*written*/) {
    return absl::UnimplementedError(absl::StrCat(name(), " has no direct load"));
  }
  // Right before the measured run, and right after it: what the target
  // does around it (quorumkv-repairing starts an anti-entropy round, and
  // says after how far it got). AfterRun's line goes into the report.
  virtual absl::Status BeforeRun() { return absl::OkStatus(); }
  virtual std::string AfterRun() { return ""; }
  // Asks one node for an anti-entropy round and measures it until it ends
  // (kvbench --repair-missing); UNIMPLEMENTED where the store has none.
  virtual absl::StatusOr<RepairMeasure> MeasureRepairRound() {
    return absl::UnimplementedError(absl::StrCat(name(), " has no anti-entropy round"));
  }
  // Stops every process Start started (also when Start failed half-way).
  virtual void Stop() = 0;
  // The store's server processes, for their memory after the run.
  virtual std::vector<pid_t> Pids() const = 0;
};

// What quorumkv-repairing's last node misses of the key space.
inline constexpr double kRepairingMissing = 0.1;

struct TargetOptions {
  bool kv_sync = true;  // quorumkv: fsync before acking
  bool kv_lww = true;   // quorumkv: blind updates overwrite (LWW)
  // quorumkv: every link through kvharness's fault proxy (target
  // "quorumkv-proxied"), to measure what the proxy costs.
  bool kv_proxies = false;
  // quorumkv: plaintext instead of mutual TLS (target "quorumkv-plaintext"),
  // to measure what TLS costs.
  bool kv_insecure = false;
  bool redis_durable = true;  // redis: appendfsync always + WAIT 1
  // quorumkv with a direct load: the last node does not get this fraction
  // of the keys (kvbench --repair-missing).
  double kv_repair_missing = 0;
  // quorumkv-repairing: the last node misses kv_repair_missing of a direct
  // load, and repairs it by anti-entropy during the measured run.
  bool kv_repair_during_run = false;
  // quorumkv-missing: the same cluster as quorumkv-repairing with
  // anti-entropy off, the baseline that isolates what a round costs clients.
  bool kv_missing_idle = false;
  // quorumkv: cluster settings over the defaults (kvbench --kv-config).
  v1::ClusterConfig kv_config;
  // quorumkv: how the workers talk to the cluster. kAsync: raw gRPC calls
  // on one completion queue (the default: the least client overhead);
  // kLibrary: the client library, KvClient (target "quorumkv-client");
  // kSession: KvClient with a session per worker, every read held to
  // read-your-writes and monotonic reads (target "quorumkv-session": its
  // reads against quorumkv-client's are what a session costs).
  enum class KvClientKind { kAsync, kLibrary, kSession };
  KvClientKind kv_client = KvClientKind::kAsync;
};

// "quorumkv", "etcd" or "redis"; INVALID_ARGUMENT naming them otherwise.
// `bin_dir` holds kvnode.
absl::StatusOr<std::unique_ptr<Target>> MakeTarget(const std::string& name,
                                                   const TargetOptions& options,
                                                   const std::string& bin_dir);

// Resident memory of a process in bytes (0 if gone).
uint64_t RssBytes(pid_t pid);
// The anonymous part of it (heap, stacks): what is not file pages, such as
// mapped table files, which the kernel can reclaim.
uint64_t AnonRssBytes(pid_t pid);
// CPU time (user + system) a process has used so far, in seconds (0 if gone).
double CpuSeconds(pid_t pid);

}  // namespace quorumkv::bench

#endif  // QUORUMKV_TOOLS_KVBENCH_TARGET_H_
