// The HTML report of a scenario run: one self-contained file (no network,
// no external script) with a summary and the checks on top, then a
// timeline: a lane per node with its fault windows shaded, a lane per
// client with its operations as bars coloured by outcome, the harness's
// final reads after the heal. An operation that shows a violated check is
// outlined in red, and each violated check links to those operations.
#ifndef QUORUMKV_TOOLS_KVHARNESS_REPORT_H_
#define QUORUMKV_TOOLS_KVHARNESS_REPORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "proto/scenario.pb.h"
#include "tools/kvharness/checker.h"
#include "tools/kvharness/history.h"

namespace quorumkv {

struct ReportInput {
  v1::Scenario scenario;
  uint64_t seed = 0;
  History history;
  std::vector<CheckResult> checks;
  std::vector<std::string> nodes;  // node ids, in order
};

// A time during which a fault touched a node.
struct FaultWindow {
  std::string node;
  std::string command;  // the command that started it
  int64_t start_us = 0;
  int64_t end_us = 0;  // when it was undone (or the final heal)
};

// The fault windows of a run's nemesis records.
std::vector<FaultWindow> FaultWindows(const History& history,
                                      const std::vector<std::string>& nodes);

std::string RenderReport(const ReportInput& input);
// Writes RenderReport(input) to `path` (atomically).
absl::Status WriteReport(const std::string& path, const ReportInput& input);

}  // namespace quorumkv

#endif  // QUORUMKV_TOOLS_KVHARNESS_REPORT_H_
