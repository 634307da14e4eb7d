#include "tests/sim/coverage.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/sim/checker.h"

namespace quorumkv::sim {

const std::vector<std::string>& FaultKinds() {
  static const std::vector<std::string> kKinds = {
      "message drop",
      "message duplicate",
      "partition",
      "one-way block",
      "heal",
      "process crash",
      "restart",
      "power loss",
      "disk wipe",
      "log tail loss",
      "crash in handoff",
      "clock skew",
      "sync_writes off",
      "hint expired",
      "lww write",
      "forged context",
      "tombstone purged",
      "session read escalated",
      "session read refused",
      "staleness bound from a watermark",
  };
  return kKinds;
}

void Coverage::Add(const Coverage& other) {
  for (const auto& [kind, n] : other.faults) faults[kind] += n;
  for (const auto& [invariant, n] : other.checks) checks[invariant] += n;
}

std::vector<std::string> Coverage::Missing() const {
  std::vector<std::string> missing;
  for (const std::string& kind : FaultKinds()) {
    auto it = faults.find(kind);
    if (it == faults.end() || it->second == 0) missing.push_back(absl::StrCat("fault ", kind));
  }
  for (int i = 1; i <= kInvariantCount; ++i) {
    auto it = checks.find(i);
    if (it == checks.end() || it->second == 0) {
      missing.push_back(absl::StrCat("invariant ", i, " (", InvariantName(i), ")"));
    }
  }
  return missing;
}

std::string Coverage::Describe() const {
  std::vector<std::string> f, c;
  for (const std::string& kind : FaultKinds()) {
    auto it = faults.find(kind);
    f.push_back(absl::StrCat(kind, " ", it == faults.end() ? 0 : it->second));
  }
  for (int i = 1; i <= kInvariantCount; ++i) {
    auto it = checks.find(i);
    c.push_back(absl::StrCat(i, ": ", it == checks.end() ? 0 : it->second));
  }
  return absl::StrCat("faults: ", absl::StrJoin(f, ", "),
                      "\nchecks per invariant: ", absl::StrJoin(c, ", "));
}

}  // namespace quorumkv::sim
