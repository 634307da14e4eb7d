#include "tests/sim/history.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace quorumkv::sim {
namespace {

const char* TypeName(OpType t) {
  switch (t) {
    case OpType::kPut:
      return "put";
    case OpType::kDelete:
      return "delete";
    case OpType::kGet:
      return "get";
  }
  return "?";
}

std::string OutcomeText(const Op& op) {
  switch (op.outcome) {
    case Outcome::kPending:
      return "pending";
    case Outcome::kOk:
      return "ok";
    case Outcome::kFail:
      return absl::StrCat("fail (", op.error, ")");
    case Outcome::kUnknown:
      return absl::StrCat("unknown (", op.error, ")");
  }
  return "?";
}

std::string SiblingsText(const std::vector<Sibling>& siblings) {
  return absl::StrJoin(siblings, ", ", [](std::string* out, const Sibling& s) {
    absl::StrAppend(out, s.tombstone ? "<tombstone>" : absl::StrCat("\"", s.value, "\""), "@",
                    DotToString(s.dot));
  });
}

}  // namespace

bool History::DataLossBetween(double from_ms, double to_ms) const {
  for (const FaultEvent& f : faults) {
    if (f.data_loss && f.at_ms >= from_ms && f.at_ms <= to_ms) return true;
  }
  return false;
}

std::string DescribeOp(const Op& op) {
  std::string text = absl::StrFormat("#%d c%d %s %s", op.id, op.client, TypeName(op.type), op.key);
  if (op.forged) absl::StrAppend(&text, " (hostile)");
  if (op.type == OpType::kPut) absl::StrAppend(&text, "=\"", op.value, "\"");
  if (op.is_write()) absl::StrAppend(&text, " ctx", VersionVectorToString(op.context));
  absl::StrAppend(&text, op.is_write() ? " W=" : " R=", op.quorum, op.strict ? " strict" : "",
                  " via ", op.coordinator,
                  absl::StrFormat(" @%.1f..%.1fms -> ", op.invoke_ms, op.complete_ms),
                  OutcomeText(op));
  if (op.dot) absl::StrAppend(&text, " dot ", DotToString(*op.dot));
  if (op.used_fallbacks) absl::StrAppend(&text, " (fallbacks answered)");
  if (op.type == OpType::kGet && op.outcome == Outcome::kOk) {
    absl::StrAppend(&text, " [", SiblingsText(op.siblings), "] ctx",
                    VersionVectorToString(op.read_context));
    if (op.reply_quorum) {
      absl::StrAppend(&text, op.reply_quorum->strict_overlap() ? " strict" : "",
                      " covers_w=", op.reply_quorum->covers_w());
    }
  }
  return text;
}

}  // namespace quorumkv::sim
