// The nemesis's commands as text, the way scenario files and kvharness's
// command line write them ("partition n1 / n2,n3", "kill n2", "heal"; see
// proto/scenario.proto): their validation, the schedule a scenario draws,
// and what each touches and undoes. Pure functions, no cluster and no
// gRPC (the fuzz target tests/fuzz/fuzz_scenario.cc runs them);
// nemesis.h applies the commands to a cluster.
#ifndef QUORUMKV_TOOLS_KVHARNESS_NEMESIS_COMMAND_H_
#define QUORUMKV_TOOLS_KVHARNESS_NEMESIS_COMMAND_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "proto/scenario.pb.h"

namespace quorumkv {

// The command's words (split on spaces).
std::vector<std::string> NemesisWords(const std::string& command);

// INVALID_ARGUMENT naming the command unless it is one the nemesis knows,
// with the right arguments, and names only nodes n1..n<nodes> (and
// "client", "*" in links).
absl::Status ValidateNemesisCommand(const std::string& command, int nodes);

// The scenario's schedule: its events, plus those its random nemesis draws
// from `seed` (the same seed, the same schedule), sorted by time.
std::vector<v1::NemesisEvent> NemesisSchedule(const v1::Scenario& scenario, uint64_t seed);

// Which nodes a command's fault touches (for the report's lanes); empty
// for heal.
std::vector<std::string> NodesTouched(const std::string& command, int nodes);

// True if `command` ends faults rather than starting one (heal, restart,
// resume, "disk-full N off", "skew N 0", "delay L 0").
bool EndsFault(const std::string& command);
// True if `undo` (a command that ends faults) ends the fault `fault`
// started: heal every link and in-node fault, restart a kill or a pause,
// resume a pause, and each of the others its own fault.
bool Undoes(const std::string& undo, const std::string& fault);

}  // namespace quorumkv

#endif  // QUORUMKV_TOOLS_KVHARNESS_NEMESIS_COMMAND_H_
