#include "tools/kvbench/histogram.h"

#include <algorithm>
#include <bit>

namespace quorumkv::bench {

// Values below kSub get a bucket each; above, bucket = (exponent, the next
// kSubBits bits of the mantissa).
int Histogram::BucketOf(uint64_t us) {
  if (us < kSub) return static_cast<int>(us);
  const int exponent = std::bit_width(us) - 1;  // >= kSubBits
  const int shift = exponent - kSubBits;
  const int sub = static_cast<int>((us >> shift) & (kSub - 1));
  return std::min((shift + 1) * kSub + sub, kBuckets - 1);
}

uint64_t Histogram::UpperBoundUs(int bucket) {
  if (bucket < kSub) return static_cast<uint64_t>(bucket);
  const int shift = bucket / kSub - 1;
  const uint64_t sub = static_cast<uint64_t>(bucket % kSub);
  return ((kSub + sub + 1) << shift) - 1;
}

void Histogram::Record(absl::Duration latency) {
  const uint64_t us =
      static_cast<uint64_t>(std::max<int64_t>(0, absl::ToInt64Microseconds(latency)));
  ++buckets_[BucketOf(us)];
  ++count_;
  sum_us_ += us;
  max_us_ = std::max(max_us_, us);
}

void Histogram::Merge(const Histogram& other) {
  for (int i = 0; i < kBuckets; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_us_ += other.sum_us_;
  max_us_ = std::max(max_us_, other.max_us_);
}

absl::Duration Histogram::mean() const {
  return count_ == 0 ? absl::ZeroDuration()
                     : absl::Microseconds(static_cast<double>(sum_us_) / count_);
}

absl::Duration Histogram::Percentile(double fraction) const {
  if (count_ == 0) return absl::ZeroDuration();
  const uint64_t rank =
      std::max<uint64_t>(1, static_cast<uint64_t>(fraction * static_cast<double>(count_) + 0.5));
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= rank) return absl::Microseconds(std::min(UpperBoundUs(i), max_us_));
  }
  return max();
}

std::vector<std::pair<absl::Duration, double>> Histogram::Cdf() const {
  std::vector<std::pair<absl::Duration, double>> points;
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    if (buckets_[i] == 0) continue;
    seen += buckets_[i];
    points.emplace_back(absl::Microseconds(std::min(UpperBoundUs(i), max_us_)),
                        static_cast<double>(seen) / static_cast<double>(count_));
  }
  return points;
}

}  // namespace quorumkv::bench
