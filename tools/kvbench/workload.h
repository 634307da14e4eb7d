// YCSB-style workloads: the operation mix and the key distribution.
#ifndef QUORUMKV_TOOLS_KVBENCH_WORKLOAD_H_
#define QUORUMKV_TOOLS_KVBENCH_WORKLOAD_H_

#include <cstdint>
#include <random>
#include <string>

#include "absl/status/statusor.h"

namespace quorumkv::bench {

struct Workload {
  std::string name;      // "A", "B", "C" or "W"
  double read_fraction;  // the rest are updates
  std::string describe;  // "95% read / 5% update"
};

// A (50/50), B (95/5), C (100% read), W (100% update); INVALID_ARGUMENT
// naming the choices otherwise.
absl::StatusOr<Workload> ParseWorkload(const std::string& name);

// The key of index i of the key space: "user" and 10 digits, as YCSB.
std::string KeyName(uint64_t index);

// Draws key indexes in [0, n): uniform, or zipfian with exponent theta
// (Gray et al.'s generator, as YCSB), scrambled by a hash so that the hot
// keys spread over the key space. One per worker; not thread-safe.
class KeyChooser {
 public:
  // REQUIRES: n >= 1, 0 < theta < 1 when zipfian.
  KeyChooser(uint64_t n, bool zipfian, double theta, uint64_t seed);
  uint64_t Next();

 private:
  uint64_t NextZipfian();

  const uint64_t n_;
  const bool zipfian_;
  const double theta_;
  std::mt19937_64 rng_;
  double zeta_n_ = 0, alpha_ = 0, eta_ = 0, zeta_2_ = 0;
};

// zeta(n, theta) = sum_{i=1..n} 1 / i^theta; cached per (n, theta), since
// it takes O(n) and every worker needs it.
double Zeta(uint64_t n, double theta);

}  // namespace quorumkv::bench

#endif  // QUORUMKV_TOOLS_KVBENCH_WORKLOAD_H_
