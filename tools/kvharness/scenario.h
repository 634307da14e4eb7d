// Scenario files (proto/scenario.proto): loading, defaults and limits.
#ifndef QUORUMKV_TOOLS_KVHARNESS_SCENARIO_H_
#define QUORUMKV_TOOLS_KVHARNESS_SCENARIO_H_

#include <string>

#include "absl/status/statusor.h"
#include "proto/scenario.pb.h"

namespace quorumkv {

// Limits on what a scenario may ask for.
inline constexpr uint32_t kMaxScenarioNodes = 9;
inline constexpr uint32_t kMaxScenarioClients = 32;
inline constexpr uint32_t kMaxScenarioKeys = 10000;
inline constexpr uint32_t kMaxScenarioDurationMs = 600'000;
inline constexpr uint32_t kMaxConvergenceTimeoutMs = 600'000;
inline constexpr uint32_t kMaxScenarioValueBytes = 1 << 20;
// A fault and its undo each need time to apply (a restart, a proxy's new
// rules): at most one random fault per 100 ms.
inline constexpr uint32_t kMinRandomNemesisIntervalMs = 100;

// Parses a textproto scenario, fills the defaults of proto/scenario.proto
// and checks the limits above and every nemesis command. NOT_FOUND if the
// file cannot be read; INVALID_ARGUMENT, naming the field or limit,
// otherwise.
absl::StatusOr<v1::Scenario> LoadScenario(const std::string& path);
absl::StatusOr<v1::Scenario> ParseScenario(const std::string& text);

}  // namespace quorumkv

#endif  // QUORUMKV_TOOLS_KVHARNESS_SCENARIO_H_
