#include "client/session_read.h"

#include <algorithm>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "replication/object_codec.h"

namespace quorumkv {
namespace {

constexpr absl::string_view kSessionFailureUrl = "type.googleapis.com/quorumkv.v1.SessionReadInfo";

}  // namespace

bool IsSessionGuaranteeFailure(const absl::Status& status) {
  return status.code() == absl::StatusCode::kFailedPrecondition &&
         status.GetPayload(kSessionFailureUrl).has_value();
}

std::optional<v1::SessionReadInfo> SessionReadInfoOf(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kSessionFailureUrl);
  v1::SessionReadInfo info;
  if (!payload || !info.ParseFromString(std::string(*payload))) return std::nullopt;
  return info;
}

std::string ReadAttempt::Describe() const {
  return absl::StrCat(r == 0 ? std::string("default R") : absl::StrCat("R=", r),
                      strict ? " strict" : "", via.empty() ? "" : absl::StrCat(" via ", via));
}

SessionRead::SessionRead(const Session* session, std::string key, SessionReadOptions options,
                         HomesFn homes)
    : session_(session), key_(std::move(key)), options_(options), homes_fn_(std::move(homes)) {
  attempts_.push_back(ReadAttempt{.r = options_.r, .strict = options_.strict});
}

std::vector<std::string> SessionRead::WritingHomes() const {
  const std::vector<std::string> writers = session_->Writers(key_);
  std::vector<std::string> writing;
  for (const std::string& home : homes_) {
    if (std::find(writers.begin(), writers.end(), home) != writers.end()) writing.push_back(home);
  }
  return writing;
}

void SessionRead::AddAllHomesRung() {
  homes_ = homes_fn_();
  const uint32_t n = static_cast<uint32_t>(homes_.size());
  if (n > 0 && options_.r != n) {
    const std::vector<std::string> writing = WritingHomes();
    attempts_.push_back(ReadAttempt{
        .via = writing.empty() ? "" : writing.front(), .r = n, .strict = options_.strict});
  }
}

std::string SessionRead::Shortfall(const v1::GetResponse& reply, VersionVector* context,
                                   bool* session_ok) {
  absl::StatusOr<VersionVector> decoded = DecodeContext(reply.context(), key_);
  if (!decoded.ok()) {
    *session_ok = false;
    return std::string(decoded.status().message());
  }
  *context = *std::move(decoded);
  const SessionShortfall shortfall = session_->Check(key_, *context);
  *session_ok = shortfall.ok();
  if (!shortfall.ok()) {
    lacked_writes_ |= !shortfall.unwritten.empty();
    lacked_reads_ |= !shortfall.unseen.empty();
    return shortfall.Describe();
  }
  if (!options_.max_staleness) return "";
  const int64_t asked_ms = absl::ToInt64Milliseconds(*options_.max_staleness);
  const v1::QuorumInfo& q = reply.quorum();
  if (!q.has_staleness_bound_ms()) {
    return absl::StrCat("staleness unknown, so not provably within ", asked_ms, " ms (",
                        q.overlap_note(), ")");
  }
  if (q.staleness_bound_ms() > asked_ms) {
    return absl::StrCat("staleness bound ", q.staleness_bound_ms(), " ms, over the ", asked_ms,
                        " ms asked");
  }
  return "";
}

void SessionRead::OnReply(absl::StatusOr<v1::GetResponse> reply) {
  auto attempt = [&] {
    return absl::StrCat("read ", current_ + 1, " (", attempts_[current_].Describe(), ")");
  };
  if (!reply.ok()) {
    if (current_ == 0) {
      result_ = std::move(reply);
      return;
    }
    tried_.push_back(absl::StrCat(attempt(), " failed: ", reply.status().message()));
  } else {
    bool session_ok = false;
    VersionVector context;
    const std::string shortfall = Shortfall(*reply, &context, &session_ok);
    if (shortfall.empty()) {
      taken_context_ = std::move(context);
      Take(*std::move(reply), /*stale=*/false);
      return;
    }
    tried_.push_back(absl::StrCat(attempt(), " fell short: ", shortfall));
    if (current_ == 0) AddAllHomesRung();
    if (session_ok) {
      if (!stale_candidate_) {
        stale_candidate_ = *std::move(reply);
        stale_candidate_context_ = std::move(context);
      }
    } else if (!stale_candidate_) {
      AddSingleReplicaRungs();
    }
  }
  if (++current_ == attempts_.size()) Fail();
}

void SessionRead::OnDeadline() {
  FailWith(absl::DeadlineExceededError(absl::StrCat("deadline exceeded after ", tried_.size(),
                                                    " session reads, none enough (",
                                                    absl::StrJoin(tried_, "; "), ")")));
}

void SessionRead::FailWith(absl::Status failure) {
  v1::SessionReadInfo info;
  info.set_attempts(static_cast<uint32_t>(tried_.size()));
  for (const std::string& why : tried_) info.add_escalations(why);
  failure.SetPayload(kSessionFailureUrl, absl::Cord(info.SerializeAsString()));
  result_ = std::move(failure);
}

void SessionRead::AddSingleReplicaRungs() {
  if (single_replica_rungs_added_) return;
  single_replica_rungs_added_ = true;
  std::vector<std::string> order = WritingHomes();
  for (const std::string& home : homes_) {
    if (std::find(order.begin(), order.end(), home) == order.end()) order.push_back(home);
  }
  for (const std::string& node : order) {
    attempts_.push_back(ReadAttempt{.via = node, .r = 1, .strict = options_.strict});
  }
}

void SessionRead::Take(v1::GetResponse reply, bool stale) {
  v1::SessionReadInfo* info = reply.mutable_session();
  info->set_attempts(static_cast<uint32_t>(tried_.size() + (stale ? 0 : 1)));
  for (const std::string& why : tried_) info->add_escalations(why);
  info->set_stale(stale);
  result_ = std::move(reply);
}

void SessionRead::Fail() {
  if (stale_candidate_ && options_.allow_stale) {
    taken_context_ = std::move(stale_candidate_context_);
    Take(*std::move(stale_candidate_), /*stale=*/true);
    return;
  }
  const char* guarantee = stale_candidate_ ? "bounded staleness"
                          : lacked_writes_ ? "read-your-writes"
                          : lacked_reads_  ? "monotonic reads"
                                           : "session guarantees";
  FailWith(absl::FailedPreconditionError(
      absl::StrCat(guarantee, " not satisfiable: ", tried_.size(), " reads, none enough (",
                   absl::StrJoin(tried_, "; "), ")")));
}

}  // namespace quorumkv
