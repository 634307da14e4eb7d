// Running the project's binaries from tests, as a user would.
#ifndef QUORUMKV_TESTS_INTEGRATION_COMMAND_H_
#define QUORUMKV_TESTS_INTEGRATION_COMMAND_H_

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace quorumkv::testing {

struct CommandResult {
  int exit_code = -1;  // -1: killed at the timeout
  std::string out;
  std::string err;
};

// Runs `argv` (argv[0] a path), capturing stdout and stderr. Kills it after
// `timeout`.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         absl::Duration timeout = absl::Seconds(60));

// build/bin, where the test binary and the tools are.
std::string BinDir();

}  // namespace quorumkv::testing

#endif  // QUORUMKV_TESTS_INTEGRATION_COMMAND_H_
