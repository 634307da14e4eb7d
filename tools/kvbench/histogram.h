// A latency histogram with bounded memory: log-linear buckets (each power
// of two of microseconds split into 16 linear sub-buckets, so a percentile
// is within ~6% of the true value), up to about 9 hours.
#ifndef QUORUMKV_TOOLS_KVBENCH_HISTOGRAM_H_
#define QUORUMKV_TOOLS_KVBENCH_HISTOGRAM_H_

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace quorumkv::bench {

// A value type; not thread-safe (one per worker, merged at the end).
class Histogram {
 public:
  void Record(absl::Duration latency);
  void Merge(const Histogram& other);

  uint64_t count() const { return count_; }
  absl::Duration max() const { return absl::Microseconds(max_us_); }
  absl::Duration mean() const;
  // The latency at or below which `fraction` (0..1] of the samples lie;
  // zero when empty.
  absl::Duration Percentile(double fraction) const;
  // (latency, fraction of samples at or below it) per non-empty bucket, for
  // plotting a CDF.
  std::vector<std::pair<absl::Duration, double>> Cdf() const;

 private:
  static constexpr int kSubBits = 4;
  static constexpr int kSub = 1 << kSubBits;
  static constexpr int kBuckets = 32 * kSub;
  static int BucketOf(uint64_t us);
  static uint64_t UpperBoundUs(int bucket);

  std::array<uint64_t, kBuckets> buckets_{};
  uint64_t count_ = 0;
  uint64_t sum_us_ = 0;
  uint64_t max_us_ = 0;
};

}  // namespace quorumkv::bench

#endif  // QUORUMKV_TOOLS_KVBENCH_HISTOGRAM_H_
