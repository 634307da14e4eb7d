#include "tools/kvharness/scenario.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "tools/kvharness/nemesis_command.h"
#include "tools/kvharness/process.h"

namespace quorumkv {
namespace {

void FillDefaults(v1::Scenario* s) {
  if (s->nodes() == 0) s->set_nodes(3);
  if (s->replicas() == 0) s->set_replicas(3);
  if (s->duration_ms() == 0) s->set_duration_ms(5000);
  if (s->convergence_timeout_ms() == 0) s->set_convergence_timeout_ms(30000);
  if (s->min_acked_writes() == 0) s->set_min_acked_writes(10);
  if (s->min_ok_reads() == 0) s->set_min_ok_reads(10);
  v1::ScenarioWorkload* w = s->mutable_workload();
  if (w->clients() == 0) w->set_clients(3);
  if (w->keys() == 0) w->set_keys(8);
  if (w->read_weight() == 0 && w->write_weight() == 0 && w->delete_weight() == 0) {
    w->set_read_weight(0.5);
    w->set_write_weight(0.5);
  }
  if (w->timeout_ms() == 0) w->set_timeout_ms(1000);
  if (w->think_ms() == 0) w->set_think_ms(20);
}

absl::Status Limit(bool ok, const std::string& what) {
  return ok ? absl::OkStatus() : absl::InvalidArgumentError(absl::StrCat("scenario: ", what));
}

absl::Status Validate(const v1::Scenario& s) {
  const v1::ScenarioWorkload& w = s.workload();
  for (absl::Status status : {
           Limit(s.nodes() <= kMaxScenarioNodes,
                 absl::StrCat("nodes ", s.nodes(), " is above the limit of ", kMaxScenarioNodes)),
           Limit(s.replicas() <= s.nodes(),
                 absl::StrCat("replicas ", s.replicas(), " is more than nodes ", s.nodes())),
           Limit(s.duration_ms() <= kMaxScenarioDurationMs,
                 absl::StrCat("duration_ms is above the limit of ", kMaxScenarioDurationMs)),
           Limit(s.convergence_timeout_ms() <= kMaxConvergenceTimeoutMs,
                 absl::StrCat("convergence_timeout_ms is above the limit of ",
                              kMaxConvergenceTimeoutMs)),
           Limit(w.clients() <= kMaxScenarioClients,
                 absl::StrCat("workload.clients is above the limit of ", kMaxScenarioClients)),
           Limit(w.keys() <= kMaxScenarioKeys,
                 absl::StrCat("workload.keys is above the limit of ", kMaxScenarioKeys)),
           Limit(w.read_weight() >= 0 && w.write_weight() >= 0 && w.delete_weight() >= 0,
                 "workload weights must not be negative"),
           Limit(w.r() <= s.replicas() && w.w() <= s.replicas(),
                 "workload r and w must not exceed replicas"),
           Limit(w.namespace_().empty() || w.namespace_() == "lww",
                 "workload.namespace must be empty (siblings) or \"lww\""),
           Limit(s.random_nemesis().interval_ms() == 0 || s.nodes() > 1,
                 "random_nemesis needs at least 2 nodes"),
           Limit(
               s.random_nemesis().interval_ms() == 0 ||
                   s.random_nemesis().interval_ms() >= kMinRandomNemesisIntervalMs,
               absl::StrCat("random_nemesis.interval_ms ", s.random_nemesis().interval_ms(),
                            " is below the least of ", kMinRandomNemesisIntervalMs, " (0: none)")),
           Limit(s.random_nemesis().interval_ms() <= s.duration_ms(),
                 absl::StrCat("random_nemesis.interval_ms ", s.random_nemesis().interval_ms(),
                              " is longer than duration_ms ", s.duration_ms())),
           Limit(s.cluster().nodes_size() == 0 && s.cluster().links_size() == 0 &&
                     s.cluster().replication_factor() == 0,
                 "cluster must not set nodes, links or replication_factor (use nodes, replicas)"),
           Limit(
               w.value_bytes() <= kMaxScenarioValueBytes,
               absl::StrCat("workload.value_bytes is above the limit of ", kMaxScenarioValueBytes)),
       }) {
    if (!status.ok()) return status;
  }
  for (const v1::NemesisEvent& e : s.nemesis()) {
    if (e.at_ms() > s.duration_ms()) {
      return absl::InvalidArgumentError(
          absl::StrCat("scenario: nemesis \"", e.command(), "\" at_ms ", e.at_ms(),
                       " is after the workload ends (duration_ms ", s.duration_ms(), ")"));
    }
    if (absl::Status st = ValidateNemesisCommand(e.command(), static_cast<int>(s.nodes()));
        !st.ok()) {
      return st;
    }
  }
  static const char* const kKinds[] = {"partition", "isolate", "kill",  "pause",
                                       "delay",     "drop",    "reset", "disk-full"};
  for (const std::string& kind : s.random_nemesis().kinds()) {
    if (std::find(std::begin(kKinds), std::end(kKinds), kind) == std::end(kKinds)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "scenario: random_nemesis kind \"", kind,
          "\" is not one of partition, isolate, kill, pause, delay, drop, reset, disk-full"));
    }
  }
  return absl::OkStatus();
}

// Keeps the first parse error, with its position.
class FirstError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (first_.empty()) first_ = absl::StrCat("line ", line + 1, ":", column + 1, ": ", message);
  }
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};

}  // namespace

absl::StatusOr<v1::Scenario> ParseScenario(const std::string& text) {
  v1::Scenario scenario;
  FirstError error;
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&error);
  if (!parser.ParseFromString(text, &scenario)) {
    return absl::InvalidArgumentError(
        absl::StrCat("scenario: ", error.first(), " (fields: proto/scenario.proto)"));
  }
  FillDefaults(&scenario);
  if (absl::Status s = Validate(scenario); !s.ok()) return s;
  return scenario;
}

absl::StatusOr<v1::Scenario> LoadScenario(const std::string& path) {
  absl::StatusOr<std::string> text = ReadTextFile(path);
  if (!text.ok()) return absl::NotFoundError(absl::StrCat("cannot read scenario ", path));
  absl::StatusOr<v1::Scenario> scenario = ParseScenario(*text);
  if (!scenario.ok()) {
    return absl::Status(scenario.status().code(),
                        absl::StrCat(path, ": ", scenario.status().message()));
  }
  return scenario;
}

}  // namespace quorumkv
