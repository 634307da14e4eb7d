#include "tools/kvharness/history.h"

#include <time.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

namespace quorumkv {
namespace {

using Json = nlohmann::json;

// One line of the history; bytes that are not UTF-8 (in an error message,
// say) are replaced rather than thrown on.
std::string Line(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

int64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

Json DotJson(const Dot& dot) { return Json{{"actor", dot.actor}, {"counter", dot.counter}}; }

Dot DotOf(const Json& j) { return Dot{j.at("actor").get<std::string>(), j.at("counter")}; }

Json VectorJson(const VersionVector& vv) {
  Json j = Json::object();
  for (const auto& [actor, counter] : vv.entries()) j[actor] = counter;
  return j;
}

VersionVector VectorOf(const Json& j) {
  std::vector<VersionVector::Entry> entries;
  for (const auto& [actor, counter] : j.items())
    entries.emplace_back(actor, counter.get<uint64_t>());
  return VersionVector::FromSortedEntries(std::move(entries));  // json objects iterate sorted
}

Json QuorumJson(const SeenQuorum& q) {
  Json j{{"coordinator", q.coordinator}, {"replied", q.replied},
         {"fallbacks", q.fallbacks},     {"repaired", q.repaired},
         {"home_acks", q.home_acks},     {"strict_overlap", q.strict_overlap},
         {"covers_w", q.covers_w}};
  if (q.staleness_bound_ms) j["staleness_bound_ms"] = *q.staleness_bound_ms;
  return j;
}

SeenQuorum QuorumOf(const Json& j) {
  SeenQuorum q;
  q.coordinator = j.value("coordinator", "");
  q.replied = j.value("replied", std::vector<std::string>{});
  q.fallbacks = j.value("fallbacks", std::vector<std::string>{});
  q.repaired = j.value("repaired", std::vector<std::string>{});
  q.home_acks = j.value("home_acks", 0u);
  q.strict_overlap = j.value("strict_overlap", false);
  q.covers_w = j.value("covers_w", 0u);
  if (j.contains("staleness_bound_ms"))
    q.staleness_bound_ms = j["staleness_bound_ms"].get<int64_t>();
  return q;
}

Json InvokeJson(const Operation& op) {
  Json j{{"type", "invoke"},         {"op", op.id},   {"client", op.client},
         {"f", OpKindName(op.kind)}, {"key", op.key}, {"node", op.node},
         {"time_us", op.invoke_us}};
  if (op.kind == OpKind::kWrite) j["value"] = op.value;
  if (op.kind != OpKind::kRead) j["context"] = VectorJson(op.context);
  if (!op.idempotency_key.empty()) j["idempotency_key"] = op.idempotency_key;
  if (op.session) j["session"] = true;
  return j;
}

Json CompletionJson(const Operation& op) {
  Json j{{"type", OutcomeName(op.outcome)}, {"op", op.id}, {"time_us", op.complete_us}};
  if (op.dot) j["dot"] = DotJson(*op.dot);
  if (op.kind == OpKind::kRead && op.outcome == Outcome::kOk) {
    j["found"] = op.found;
    Json siblings = Json::array();
    for (const SeenSibling& s : op.siblings) {
      Json sibling{{"value", s.value}, {"tombstone", s.tombstone}, {"dot", DotJson(s.dot)}};
      if (!s.idempotency_key.empty()) sibling["idempotency_key"] = s.idempotency_key;
      siblings.push_back(std::move(sibling));
    }
    j["siblings"] = siblings;
    j["context"] = VectorJson(op.read_context);
  }
  if (op.quorum) j["quorum"] = QuorumJson(*op.quorum);
  if (!op.error.empty()) j["error"] = op.error;
  if (op.session_reads > 0) j["session_reads"] = op.session_reads;
  return j;
}

Outcome OutcomeOf(const std::string& name) {
  if (name == "ok") return Outcome::kOk;
  if (name == "fail") return Outcome::kFail;
  return Outcome::kInfo;
}

OpKind KindOf(const std::string& name) {
  if (name == "write") return OpKind::kWrite;
  if (name == "delete") return OpKind::kDelete;
  return OpKind::kRead;
}

void ApplyInvoke(const Json& j, History* h) {
  Operation op;
  op.id = j.at("op");
  op.client = j.at("client");
  op.kind = KindOf(j.at("f"));
  op.key = j.at("key");
  op.value = j.value("value", "");
  op.node = j.value("node", "");
  op.invoke_us = j.at("time_us");
  if (j.contains("context")) op.context = VectorOf(j["context"]);
  op.idempotency_key = j.value("idempotency_key", "");
  op.session = j.value("session", false);
  if (op.id < 0 || static_cast<size_t>(op.id) > h->operations.size()) {
    throw std::out_of_range(absl::StrCat("op ", op.id, " invoked out of order"));
  }
  if (h->operations.size() == static_cast<size_t>(op.id)) h->operations.resize(op.id + 1);
  h->operations[op.id] = std::move(op);
}

void ApplyCompletion(const Json& j, History* h) {
  const int64_t id = j.at("op");
  if (id < 0 || static_cast<size_t>(id) >= h->operations.size()) {
    throw std::out_of_range(absl::StrCat("completion of unknown op ", id));
  }
  Operation& op = h->operations[id];
  op.outcome = OutcomeOf(j.at("type"));
  op.complete_us = j.at("time_us");
  if (j.contains("dot")) op.dot = DotOf(j["dot"]);
  op.found = j.value("found", false);
  if (j.contains("siblings")) {
    for (const Json& s : j["siblings"]) {
      op.siblings.push_back(SeenSibling{s.at("value"), s.at("tombstone"), DotOf(s.at("dot")),
                                        s.value("idempotency_key", "")});
    }
  }
  if (j.contains("context") && op.kind == OpKind::kRead) op.read_context = VectorOf(j["context"]);
  if (j.contains("quorum")) op.quorum = QuorumOf(j["quorum"]);
  op.error = j.value("error", "");
  op.session_reads = j.value("session_reads", 0u);
}

}  // namespace

const char* OpKindName(OpKind kind) {
  switch (kind) {
    case OpKind::kRead:
      return "read";
    case OpKind::kWrite:
      return "write";
    case OpKind::kDelete:
      return "delete";
  }
  return "?";
}

const char* OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kPending:
      return "pending";
    case Outcome::kOk:
      return "ok";
    case Outcome::kFail:
      return "fail";
    case Outcome::kInfo:
      return "info";
  }
  return "?";
}

absl::StatusOr<std::unique_ptr<HistoryRecorder>> HistoryRecorder::Create(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("cannot create history ", path));
  }
  return std::unique_ptr<HistoryRecorder>(new HistoryRecorder(file, MonotonicNs()));
}

HistoryRecorder::HistoryRecorder(std::FILE* file, int64_t start_ns)
    : start_ns_(start_ns), file_(file) {}

HistoryRecorder::~HistoryRecorder() {
  absl::MutexLock lock(&mu_);
  std::fclose(file_);
}

int64_t HistoryRecorder::Now() const { return (MonotonicNs() - start_ns_) / 1000; }

void HistoryRecorder::WriteLine(const std::string& line) {
  std::fputs(line.c_str(), file_);
  std::fputc('\n', file_);
  std::fflush(file_);
}

int64_t HistoryRecorder::Invoke(Operation op) {
  absl::MutexLock lock(&mu_);
  op.id = static_cast<int64_t>(history_.operations.size());
  op.invoke_us = Now();
  WriteLine(Line(InvokeJson(op)));
  history_.operations.push_back(std::move(op));
  return history_.operations.back().id;
}

void HistoryRecorder::Complete(const Operation& completed) {
  absl::MutexLock lock(&mu_);
  Operation& op = history_.operations.at(completed.id);
  const Operation invoked = op;
  op = completed;
  op.client = invoked.client;
  op.kind = invoked.kind;
  op.key = invoked.key;
  op.value = invoked.value;
  op.node = invoked.node;
  op.context = invoked.context;
  op.invoke_us = invoked.invoke_us;
  op.complete_us = Now();
  WriteLine(Line(CompletionJson(op)));
}

void HistoryRecorder::Nemesis(const std::string& command, const std::string& error) {
  absl::MutexLock lock(&mu_);
  NemesisRecord record{Now(), command, error};
  Json j{{"type", "nemesis"}, {"time_us", record.time_us}, {"command", command}};
  if (!error.empty()) j["error"] = error;
  WriteLine(Line(j));
  history_.nemesis.push_back(std::move(record));
}

void HistoryRecorder::FinalHeal() {
  absl::MutexLock lock(&mu_);
  history_.heal_us = Now();
  WriteLine(Line(Json{{"type", "heal"}, {"time_us", history_.heal_us}}));
}

History HistoryRecorder::Snapshot() const {
  absl::MutexLock lock(&mu_);
  History h = history_;
  h.end_us = Now();
  return h;
}

absl::StatusOr<History> ReadHistory(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read history ", path));
  History h;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    try {
      const Json j = Json::parse(line);
      const std::string type = j.at("type");
      const int64_t time_us = j.at("time_us");
      h.end_us = std::max(h.end_us, time_us);
      if (type == "invoke") {
        ApplyInvoke(j, &h);
      } else if (type == "nemesis") {
        h.nemesis.push_back(NemesisRecord{time_us, j.at("command"), j.value("error", "")});
      } else if (type == "heal") {
        h.heal_us = time_us;
      } else {
        ApplyCompletion(j, &h);
      }
    } catch (const std::exception& e) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", number, ": not a history event: ", e.what()));
    }
  }
  return h;
}

}  // namespace quorumkv
