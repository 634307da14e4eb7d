#include "tools/kvharness/report.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "tools/kvharness/nemesis_command.h"
#include "tools/kvharness/process.h"
#include "tools/kvharness/report_page.h"

namespace quorumkv {
namespace {

using Json = nlohmann::json;

struct OpenFault {
  std::string command;
  int64_t start_us;
};

Json OpJson(const Operation& op) {
  Json j{
      {"id", op.id},       {"c", op.client},      {"f", OpKindName(op.kind)},     {"k", op.key},
      {"s", op.invoke_us}, {"e", op.complete_us}, {"o", OutcomeName(op.outcome)}, {"n", op.node}};
  if (!op.value.empty()) j["v"] = op.value.size() > 40 ? op.value.substr(0, 40) + "..." : op.value;
  if (op.dot) j["dot"] = DotToString(*op.dot);
  if (op.quorum) {
    j["coord"] = op.quorum->coordinator;
    j["replied"] = absl::StrJoin(op.quorum->replied, ",");
    if (!op.quorum->fallbacks.empty()) j["fallbacks"] = absl::StrJoin(op.quorum->fallbacks, ",");
    if (op.kind == OpKind::kRead) j["strict"] = op.quorum->strict_overlap;
  }
  if (op.kind == OpKind::kRead && op.outcome == Outcome::kOk) {
    std::vector<std::string> seen;
    for (const SeenSibling& s : op.siblings) seen.push_back(s.tombstone ? "(tombstone)" : s.value);
    j["found"] = op.found;
    j["seen"] = absl::StrJoin(seen, ", ");
  }
  if (!op.error.empty()) j["err"] = op.error;
  return j;
}

Json ReportData(const ReportInput& in) {
  Json ops = Json::array();
  for (const Operation& op : in.history.operations) ops.push_back(OpJson(op));
  Json windows = Json::array();
  for (const FaultWindow& w : FaultWindows(in.history, in.nodes)) {
    windows.push_back({{"node", w.node}, {"cmd", w.command}, {"s", w.start_us}, {"e", w.end_us}});
  }
  Json nemesis = Json::array();
  for (const NemesisRecord& r : in.history.nemesis) {
    nemesis.push_back({{"t", r.time_us}, {"cmd", r.command}, {"err", r.error}});
  }
  Json checks = Json::array();
  for (const CheckResult& c : in.checks) {
    checks.push_back({{"name", c.name},
                      {"passed", c.passed},
                      {"summary", c.summary},
                      {"problems", c.problems},
                      {"ops", c.ops}});
  }
  return Json{{"name", in.scenario.name()},
              {"description", in.scenario.description()},
              {"seed", std::to_string(in.seed)},
              {"nodes", in.nodes},
              {"clients", in.scenario.workload().clients()},
              {"heal", in.history.heal_us},
              {"end", in.history.end_us},
              {"ops", ops},
              {"windows", windows},
              {"nemesis", nemesis},
              {"checks", checks}};
}

}  // namespace

std::vector<FaultWindow> FaultWindows(const History& history,
                                      const std::vector<std::string>& nodes) {
  std::vector<FaultWindow> windows;
  std::vector<OpenFault> open;
  auto close = [&](const OpenFault& f, int64_t end_us) {
    for (const std::string& node : NodesTouched(f.command, static_cast<int>(nodes.size()))) {
      windows.push_back(FaultWindow{node, f.command, f.start_us, end_us});
    }
  };
  for (const NemesisRecord& r : history.nemesis) {
    if (!r.error.empty()) continue;
    if (!EndsFault(r.command)) {
      open.push_back(OpenFault{r.command, r.time_us});
      continue;
    }
    for (auto it = open.begin(); it != open.end();) {
      if (Undoes(r.command, it->command)) {
        close(*it, r.time_us);
        it = open.erase(it);
      } else {
        ++it;
      }
    }
  }
  const int64_t end = history.heal_us >= 0 ? history.heal_us : history.end_us;
  for (const OpenFault& f : open) close(f, end);
  return windows;
}

std::string RenderReport(const ReportInput& input) {
  // Inside <script>, "</" could end the element early.
  const std::string data = absl::StrReplaceAll(
      ReportData(input).dump(-1, ' ', false, Json::error_handler_t::replace), {{"</", "<\\/"}});
  return absl::StrReplaceAll(kReportPage, {{"/*DATA*/null", data}});
}

absl::Status WriteReport(const std::string& path, const ReportInput& input) {
  return WriteFileAtomically(path, RenderReport(input));
}

}  // namespace quorumkv
