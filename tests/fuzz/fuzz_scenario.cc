// libFuzzer target: scenario files (tools/kvharness/scenario.h) and the
// nemesis commands in them (nemesis_command.h), on arbitrary text:
// kvharness scenario reads files a user wrote. A scenario either parses or
// is INVALID_ARGUMENT; one that parses schedules only commands that
// validate, touching only its own nodes. The first line is also tried as
// a single nemesis command (kvharness takes them on its command line).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "tools/kvharness/nemesis_command.h"
#include "tools/kvharness/scenario.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

void CheckCommand(const std::string& command, int nodes) {
  if (!quorumkv::ValidateNemesisCommand(command, nodes).ok()) return;
  for (const std::string& node : quorumkv::NodesTouched(command, nodes)) {
    bool known = false;
    for (int i = 1; i <= nodes; ++i) known = known || node == absl::StrCat("n", i);
    Check(known);
  }
  (void)quorumkv::EndsFault(command);
  (void)quorumkv::Undoes("heal", command);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  CheckCommand(text.substr(0, text.find('\n')), 5);
  absl::StatusOr<quorumkv::v1::Scenario> scenario = quorumkv::ParseScenario(text);
  if (!scenario.ok()) {
    Check(scenario.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  const int nodes = static_cast<int>(scenario->nodes());
  for (const quorumkv::v1::NemesisEvent& event : quorumkv::NemesisSchedule(*scenario, size)) {
    Check(quorumkv::ValidateNemesisCommand(event.command(), nodes).ok());
    Check(event.at_ms() <= scenario->duration_ms());
    CheckCommand(event.command(), nodes);
  }
  return 0;
}
