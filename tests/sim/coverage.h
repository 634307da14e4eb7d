// How much of what can go wrong a run exercised: each fault kind injected
// and each invariant checked, counted. A fault kind or an invariant that
// thousands of seeds never reach protects nothing; kvsim
// --require-coverage fails on a zero.
#ifndef QUORUMKV_TESTS_SIM_COVERAGE_H_
#define QUORUMKV_TESTS_SIM_COVERAGE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace quorumkv::sim {

struct Coverage {
  std::map<std::string, uint64_t> faults;  // by fault kind
  std::map<int, uint64_t> checks;          // by invariant: items checked

  void Add(const Coverage& other);
  // The fault kinds and invariants with a count of zero, named.
  std::vector<std::string> Missing() const;
  // "faults: crash 120, ...; checks: 1 (no acknowledged...) 3400, ...".
  std::string Describe() const;
};

// Every fault kind a run can inject, for Missing().
const std::vector<std::string>& FaultKinds();
// Invariants 1..kInvariantCount.
inline constexpr int kInvariantCount = 17;

}  // namespace quorumkv::sim

#endif  // QUORUMKV_TESTS_SIM_COVERAGE_H_
