// tests/sim/: the deterministic simulator of quorumkv. The real
// replication/ and storage/ code (ReplicaNode over EngineReplicaStore over
// MemEngine) runs in one thread, on a ManualClock, over a simulated network,
// with every choice drawn from one seeded std::mt19937_64: one seed, one run.
//
// SimWorld is the heart: a queue of timed events and the random source.
#ifndef QUORUMKV_TESTS_SIM_SIM_WORLD_H_
#define QUORUMKV_TESTS_SIM_SIM_WORLD_H_

#include <cstdint>
#include <functional>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "replication/clock.h"

namespace quorumkv::sim {

// Not thread-safe: a world and everything in it belong to one thread.
class SimWorld {
 public:
  explicit SimWorld(uint64_t seed, bool trace);

  ManualClock* clock() { return &clock_; }
  absl::Time now() { return clock_.Now(); }
  std::mt19937_64& rng() { return rng_; }

  // Runs `action` at now() + delay. Events at the same time run in the
  // order they were scheduled.
  void After(absl::Duration delay, std::function<void()> action);
  // Runs events until none is left or the clock would pass `until`.
  // Returns the number of events run.
  uint64_t RunUntil(absl::Time until);
  bool idle() const { return events_.empty(); }

  // Random helpers, all drawn from rng().
  bool Chance(double p);
  uint64_t Uniform(uint64_t lo, uint64_t hi);  // inclusive
  absl::Duration UniformDuration(absl::Duration lo, absl::Duration hi);
  template <typename T>
  const T& Pick(const std::vector<T>& items) {
    return items[Uniform(0, items.size() - 1)];
  }

  // The trace, if enabled: one line per event of interest, with the time.
  void Trace(absl::string_view line);
  bool tracing() const { return trace_; }
  const std::vector<std::string>& trace_lines() const { return trace_lines_; }
  // Milliseconds since the start of the run, for traces and histories.
  double ElapsedMs();

 private:
  struct Event {
    absl::Time at;
    uint64_t seq;
    std::function<void()> action;
  };
  struct Later {
    bool operator()(const Event& a, const Event& b) const {
      return a.at != b.at ? a.at > b.at : a.seq > b.seq;
    }
  };

  ManualClock clock_;
  const absl::Time start_;
  std::mt19937_64 rng_;
  std::priority_queue<Event, std::vector<Event>, Later> events_;
  uint64_t next_seq_ = 0;
  const bool trace_;
  std::vector<std::string> trace_lines_;
};

}  // namespace quorumkv::sim

#endif  // QUORUMKV_TESTS_SIM_SIM_WORLD_H_
