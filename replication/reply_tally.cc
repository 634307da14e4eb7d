#include "replication/reply_tally.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "replication/transport.h"

namespace quorumkv {
namespace {}  // namespace

ReplyTally::ReplyTally(std::vector<std::string> targets, uint32_t required, absl::Time start)
    : targets_(std::move(targets)), required_(required), start_(start) {
  for (const std::string& t : targets_) {
    Answer a;
    a.node = t;
    answers_.push_back(std::move(a));
  }
}

ReplyTally::Answer* ReplyTally::Find(const std::string& node) {
  for (Answer& a : answers_) {
    if (a.node == node) return &a;
  }
  return nullptr;
}

const ReplyTally::Answer* ReplyTally::Find(const std::string& node) const {
  return const_cast<ReplyTally*>(this)->Find(node);
}

bool ReplyTally::RecordSuccess(const std::string& node, absl::Time at) {
  Answer* a = Find(node);
  if (a == nullptr || a->done) return false;
  a->done = true;
  a->ok = true;
  a->latency = std::max(at - start_, absl::ZeroDuration());
  success_order_.push_back(node);
  ++successes_;
  return true;
}

bool ReplyTally::RecordFailure(const std::string& node, const absl::Status& status) {
  Answer* a = Find(node);
  if (a == nullptr || a->done) return false;
  a->done = true;
  a->status = status;
  ++failures_;
  return true;
}

void ReplyTally::ExpirePending() {
  for (Answer& a : answers_) {
    if (!a.done)
      RecordFailure(a.node, absl::DeadlineExceededError("no answer before the deadline"));
  }
}

QuorumState ReplyTally::state() const {
  return EvaluateQuorum(successes_, failures_, static_cast<uint32_t>(targets_.size()), required_);
}

bool ReplyTally::all_answered() const { return successes_ + failures_ == targets_.size(); }

bool ReplyTally::succeeded(const std::string& node) const {
  const Answer* a = Find(node);
  return a != nullptr && a->ok;
}

absl::Status ReplyTally::QuorumError(Kind kind, absl::string_view noun, absl::string_view param,
                                     absl::string_view note) const {
  std::vector<std::string> why;
  bool unknown = false;
  for (const Answer& a : answers_) {
    if (a.ok) continue;
    if (!a.done) {
      why.push_back(absl::StrCat(a.node, ": no answer yet"));
    } else if (a.status.code() == absl::StatusCode::kDeadlineExceeded) {
      unknown = true;
      why.push_back(absl::StrCat(a.node, ": no answer in time"));
    } else if (kind == Kind::kWrite && OutcomeUnknown(a.status)) {
      unknown = true;
      why.push_back(absl::StrCat(a.node, ": outcome unknown (", a.status.message(), ")"));
    } else {
      why.push_back(absl::StrCat(a.node, ": ", a.status.message()));
    }
  }
  const std::string summary = absl::StrCat("got ", successes_, " of ", param, "=", required_, " ",
                                           noun, " (", absl::StrJoin(why, "; "), ")");
  if (unknown) {
    return absl::DeadlineExceededError(
        absl::StrCat("deadline exceeded, outcome unknown: ", summary, note));
  }
  return absl::UnavailableError(absl::StrCat("quorum not met: ", summary, note));
}

void ReplyTally::FillQuorumInfo(pb::QuorumInfo* info) const {
  info->set_required(required_);
  info->clear_replied();
  info->clear_failed();
  for (const std::string& node : success_order_) {
    pb::ReplicaAnswer* r = info->add_replied();
    r->set_node(node);
    r->set_latency_us(static_cast<uint64_t>(absl::ToInt64Microseconds(Find(node)->latency)));
  }
  for (const Answer& a : answers_) {
    if (!a.ok && a.done) info->add_failed(a.node);
  }
}

}  // namespace quorumkv
