// Runs a workload against one target: load the key space, then closed-loop
// (or open-loop at a target rate) workers for a bounded time or op count,
// with a progress line, collecting latencies per operation type.
#ifndef QUORUMKV_TOOLS_KVBENCH_RUNNER_H_
#define QUORUMKV_TOOLS_KVBENCH_RUNNER_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "tools/kvbench/histogram.h"
#include "tools/kvbench/target.h"
#include "tools/kvbench/workload.h"

namespace quorumkv::bench {

struct RunOptions {
  Workload workload;
  uint64_t keys = 100'000;
  bool zipfian = true;
  double theta = 0.99;
  size_t value_bytes = 256;
  int concurrency = 32;
  absl::Duration duration = absl::Seconds(30);
  uint64_t max_ops = 0;  // 0: until `duration`
  double rate = 0;       // ops/s over all workers; 0: closed loop
  uint64_t seed = 1;
  bool progress_on_tty = false;  // rewrite one progress line instead of printing lines
  bool direct_load = false;      // load through Target::LoadDirectly where it has one
  // Instead of the workload: two anti-entropy rounds of the node the load
  // left behind (Target::MeasureRepairRound), the second with nothing left
  // to repair.
  bool measure_repair = false;
};

struct OpStats {
  Histogram latency;  // successful operations
  uint64_t errors = 0;
  std::string first_error;
  void Merge(const OpStats& other);
};

struct TargetResult {
  std::string name;
  std::string description;
  absl::Status status;  // not OK: the target could not be started or loaded
  uint64_t loaded = 0;
  bool loaded_directly = false;  // through Target::LoadDirectly
  absl::Duration load_time;
  absl::Duration elapsed;  // of the measured run
  OpStats read, update;
  std::vector<uint64_t> rss_bytes;       // per server process, after the run
  std::vector<uint64_t> anon_rss_bytes;  // the anonymous part of each
  double server_cpu_seconds = 0;         // all server processes, during the run
  double client_cpu_seconds = 0;         // kvbench itself (its clients), during the run
  std::vector<RepairMeasure> repairs;    // with measure_repair
  std::string note;                      // Target::AfterRun's
  double ops_per_second() const;
  // Server CPU per operation in microseconds: the cost of an operation,
  // whatever else shares the machine.
  double server_cpu_us_per_op() const;
  // kvbench's own CPU per operation: what the clients took of the machine
  // the servers share with them.
  double client_cpu_us_per_op() const;

 private:
  double MicrosPerOp(double cpu_seconds) const;
};

// Set by SIGINT: workers stop, and targets are torn down.
extern std::atomic<bool> g_interrupted;

// Starts `target` in `dir`, loads, runs, measures memory, stops it.
TargetResult RunTarget(Target& target, const RunOptions& options, const std::string& dir);

// Sustained 4 KiB write + fdatasync per second in `dir`, for `duration`.
double MeasureFsyncRate(const std::string& dir, absl::Duration duration);

}  // namespace quorumkv::bench

#endif  // QUORUMKV_TOOLS_KVBENCH_RUNNER_H_
