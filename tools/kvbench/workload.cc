#include "tools/kvbench/workload.h"

#include <cmath>
#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace quorumkv::bench {

absl::StatusOr<Workload> ParseWorkload(const std::string& name) {
  if (name == "A") return Workload{"A", 0.5, "50% read / 50% update"};
  if (name == "B") return Workload{"B", 0.95, "95% read / 5% update"};
  if (name == "C") return Workload{"C", 1.0, "100% read"};
  if (name == "W") return Workload{"W", 0.0, "100% update"};
  return absl::InvalidArgumentError(absl::StrCat("unknown workload '", name,
                                                 "': choose A (50/50), B (95/5), C (read) or W "
                                                 "(update)"));
}

std::string KeyName(uint64_t index) { return absl::StrFormat("user%010d", index); }

double Zeta(uint64_t n, double theta) {
  static std::mutex mu;
  static auto* cache = new std::map<std::pair<uint64_t, double>, double>();
  std::lock_guard<std::mutex> lock(mu);
  auto [it, inserted] = cache->try_emplace({n, theta}, 0.0);
  if (inserted) {
    double sum = 0;
    for (uint64_t i = 1; i <= n; ++i) sum += 1.0 / std::pow(static_cast<double>(i), theta);
    it->second = sum;
  }
  return it->second;
}

KeyChooser::KeyChooser(uint64_t n, bool zipfian, double theta, uint64_t seed)
    : n_(n), zipfian_(zipfian), theta_(theta), rng_(seed) {
  if (!zipfian_) return;
  zeta_n_ = Zeta(n_, theta_);
  zeta_2_ = Zeta(2, theta_);
  alpha_ = 1.0 / (1.0 - theta_);
  eta_ = (1 - std::pow(2.0 / static_cast<double>(n_), 1 - theta_)) / (1 - zeta_2_ / zeta_n_);
}

uint64_t KeyChooser::NextZipfian() {
  const double u = std::uniform_real_distribution<double>(0, 1)(rng_);
  const double uz = u * zeta_n_;
  if (uz < 1.0) return 0;
  if (uz < 1.0 + std::pow(0.5, theta_)) return 1;
  const uint64_t rank =
      static_cast<uint64_t>(static_cast<double>(n_) * std::pow(eta_ * u - eta_ + 1, alpha_));
  return std::min(rank, n_ - 1);
}

uint64_t KeyChooser::Next() {
  if (!zipfian_) return std::uniform_int_distribution<uint64_t>(0, n_ - 1)(rng_);
  // Scramble the rank (FNV-1a of its bytes) so the hottest keys are not
  // neighbours.
  uint64_t h = 0xcbf29ce484222325ull;
  uint64_t rank = NextZipfian();
  for (int i = 0; i < 8; ++i) {
    h = (h ^ (rank & 0xff)) * 0x100000001b3ull;
    rank >>= 8;
  }
  return h % n_;
}

}  // namespace quorumkv::bench
