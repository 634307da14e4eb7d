// A seeded simulation of DVV-set replicas, used by object_test.cc to draw
// reachable states: actors "a.1", "b.1", "c.1" each keep a replica of one key
// and a node-wide dot counter; clients read a replica (or the merge of two,
// as a quorum read does), then write at some actor with that context or
// blind, and replicas push their state to each other.
#ifndef QUORUMKV_TESTS_UNIT_REPLICATION_DVV_SIMULATION_H_
#define QUORUMKV_TESTS_UNIT_REPLICATION_DVV_SIMULATION_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "replication/object.h"
#include "tests/unit/replication/object_printers.h"

namespace quorumkv::test_support {

// One write of the run: its dot and the context its client passed.
struct WriteRecord {
  Sibling sibling;
  VersionVector context;  // empty for a blind write
  size_t coordinator = 0;
  std::vector<size_t> covered_by;  // later writes whose context covered this one
};

class DvvSimulation {
 public:
  static constexpr size_t kActors = 3;

  // `last_writer_wins`: replicas write and merge as replicas of an `lww`
  // namespace do.
  explicit DvvSimulation(uint64_t seed, bool last_writer_wins = false)
      : rng_(seed),
        policy_(last_writer_wins ? MergePolicy::kLastWriterWins : MergePolicy::kSiblings),
        replicas_(kActors),
        counters_(kActors, 0),
        hlc_(kActors, 0),
        skew_(kActors) {
    // Clocks disagree by up to 40 ticks: HLC order need not be causal order.
    for (int64_t& s : skew_) s = Uniform(0, 80) - 40;
  }

  // One random step: a write (with a read context, or blind) or a sync.
  void Step() {
    const uint64_t kind = Uniform(0, 9);
    if (kind < 4) {
      Write(Uniform(0, kActors - 1), ClientRead());
    } else if (kind < 6) {
      Write(Uniform(0, kActors - 1), VersionVector());
    } else {
      const size_t from = Uniform(0, kActors - 1);
      const size_t to = (from + 1 + Uniform(0, kActors - 2)) % kActors;
      Push(from, to);
    }
  }

  void Run(int steps) {
    for (int i = 0; i < steps; ++i) Step();
  }

  // The context a client gets from reading one replica or two merged.
  VersionVector ClientRead() {
    const size_t first = Uniform(0, kActors - 1);
    if (Uniform(0, 1) == 0) return replicas_[first].context;
    return Sync(policy_, replicas_[first], replicas_[Uniform(0, kActors - 1)]).context;
  }

  // A client write coordinated by actor `at`. Returns the new write's index.
  size_t Write(size_t at, const VersionVector& context) {
    ++time_;
    // The counter is node-wide: writes to other keys leave gaps.
    counters_[at] += 1 + (Uniform(0, 3) == 0 ? Uniform(1, 5) : 0);
    const Dot dot{Actor(at), counters_[at]};
    EXPECT_TRUE(CheckFreshDot(replicas_[at], context, dot).ok()) << DotToString(dot);
    hlc_[at] = std::max<uint64_t>(hlc_[at] + 1, std::max<int64_t>(time_ * 10 + skew_[at], 0));
    Sibling sibling{.dot = dot, .hlc = hlc_[at], .value = absl::StrCat("w", writes_.size())};
    // A tenth of the writes are deletes.
    if (Uniform(0, 9) == 0) {
      sibling.tombstone = true;
      sibling.value.clear();
    }
    for (WriteRecord& w : writes_) {
      if (context.Covers(w.sibling.dot)) w.covered_by.push_back(writes_.size());
    }
    writes_.push_back(WriteRecord{.sibling = sibling, .context = context, .coordinator = at});
    replicas_[at] = ApplyWrite(policy_, replicas_[at], context, sibling);
    Settle(at);
    return writes_.size() - 1;
  }

  // Replica `from` sends its state to `to`, which merges it.
  void Push(size_t from, size_t to) {
    for (const Sibling& s : replicas_[from].siblings) hlc_[to] = std::max(hlc_[to], s.hlc);
    replicas_[to] = Sync(policy_, replicas_[to], replicas_[from]);
    Settle(to);
  }

  // The merge of every replica: what the replicas converge to.
  Object Converged() const {
    Object all;
    for (const Object& r : replicas_) all = Sync(policy_, all, r);
    return all;
  }

  uint64_t Uniform(uint64_t lo, uint64_t hi) {
    return std::uniform_int_distribution<uint64_t>(lo, hi)(rng_);
  }
  const Object& Pick() { return pool_[Uniform(0, pool_.size() - 1)]; }

  static std::string Actor(size_t i) { return std::string(1, static_cast<char>('a' + i)) + ".1"; }
  const Object& replica(size_t i) const { return replicas_[i]; }
  const std::vector<WriteRecord>& writes() const { return writes_; }
  // Every replica state the run went through.
  const std::vector<Object>& pool() const { return pool_; }

 private:
  void Settle(size_t at) { pool_.push_back(replicas_[at]); }

  std::mt19937_64 rng_;
  const MergePolicy policy_;
  std::vector<Object> replicas_;
  std::vector<uint64_t> counters_;
  std::vector<uint64_t> hlc_;
  std::vector<int64_t> skew_;
  int64_t time_ = 0;
  std::vector<WriteRecord> writes_;
  std::vector<Object> pool_{Object()};
};

}  // namespace quorumkv::test_support

#endif  // QUORUMKV_TESTS_UNIT_REPLICATION_DVV_SIMULATION_H_
