#include "replication/handoff.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "replication/logging.h"
#include "replication/object_codec.h"

namespace quorumkv {

HandoffManager::HandoffManager(std::string self, Hints* hints, Transport* transport,
                               const FailureDetector* detector,
                               std::function<uint32_t(const std::string&)> partition_of,
                               HandoffOptions options)
    : self_(std::move(self)),
      hints_(hints),
      transport_(transport),
      detector_(detector),
      partition_of_(std::move(partition_of)),
      options_(options) {}

HandoffStats HandoffManager::stats() const {
  HandoffStats stats;
  {
    absl::MutexLock lock(&mu_);
    stats = stats_;
  }
  for (const HintSummary& s : hints_->Summarize()) stats.expired += s.expired;
  return stats;
}

void HandoffManager::Tick(absl::Time now) {
  const std::vector<HintSummary> summaries = hints_->Summarize();
  ExpireOld(summaries, now);
  SettleDeliveries(now);
  expired_log_.EndIfQuiet(now);
  store_error_log_.EndIfQuiet(now);
  for (const HintSummary& summary : summaries) {
    if (detector_->StateOf(summary.home, now) == PeerState::kUp) Push(summary.home, now);
  }
}

namespace {

constexpr absl::string_view kStale = "whose newest write is older than max_hint_age";
constexpr absl::string_view kCreatedLongAgo =
    "created longer ago than tombstone_grace_ms - replica_timeout_ms";

}  // namespace

void HandoffManager::ExpireOld(const std::vector<HintSummary>& summaries, absl::Time now) {
  // A hint expires once its newest write is past the age limit: a write
  // merged into an old hint keeps the whole hint until it is old itself.
  const absl::Time written_before = now - options_.max_hint_age;
  const absl::Time created_before = CreatedCutoff(now);
  for (const HintSummary& summary : summaries) {
    if (summary.stalest < written_before) {
      for (const HintInfo& hint :
           hints_->ListWrittenBefore(summary.home, written_before, kMaxExpiredPerTick)) {
        if (!Drop(hint, written_before, kStale, now).ok()) return;
      }
    }
    if (summary.count > 0 && summary.oldest < created_before) {
      for (const HintInfo& hint : hints_->List(summary.home, kMaxExpiredPerTick)) {
        if (hint.created >= created_before) break;  // oldest created first
        if (!Drop(hint, absl::InfiniteFuture(), kCreatedLongAgo, now).ok()) return;
      }
    }
  }
}

bool HandoffManager::DropIfExpired(const std::string& home, const std::string& key,
                                   absl::Time now) {
  const std::optional<HintInfo> info = hints_->Info(home, key);
  if (!info) return false;
  absl::StatusOr<bool> dropped = false;
  const absl::Time written_before = now - options_.max_hint_age;
  if (info->newest_write < written_before) {
    dropped = Drop(*info, written_before, kStale, now);
  } else if (info->created < CreatedCutoff(now)) {
    dropped = Drop(*info, absl::InfiniteFuture(), kCreatedLongAgo, now);
  }
  return dropped.ok() && *dropped;
}

absl::Time HandoffManager::CreatedCutoff(absl::Time now) const {
  return options_.max_age_since_creation == absl::InfiniteDuration()
             ? absl::InfinitePast()
             : now - options_.max_age_since_creation;
}

absl::StatusOr<bool> HandoffManager::Drop(const HintInfo& hint, absl::Time written_before,
                                          absl::string_view why, absl::Time now) {
  const uint32_t partition = partition_of_(hint.key);
  absl::StatusOr<bool> dropped =
      hints_->DropExpired(hint.home, hint.key, written_before, partition);
  if (!dropped.ok()) {
    store_error_log_.Occurred(now,
                              {{"op", "drop expired hint"}, {"error", dropped.status().message()}});
    return dropped;
  }
  if (*dropped) {  // else a write reached it since the listing
    expired_log_.Occurred(now,
                          {{"home", hint.home},
                           {"partition", partition},
                           {"why", why},
                           {"msg", "dropped, counted, and its partition marked for anti-entropy"}});
  }
  return dropped;
}

void HandoffManager::SettleDeliveries(absl::Time now) {
  std::deque<Delivery> finished;
  {
    absl::MutexLock lock(&mu_);
    finished.swap(finished_);
  }
  for (Delivery& d : finished) {
    bool deleted = false;
    if (d.ok) {
      absl::StatusOr<bool> result = hints_->DeleteIfUnchanged(d.home, d.key, d.object);
      deleted = result.ok() && *result;
      if (!result.ok()) {
        store_error_log_.Occurred(
            now, {{"op", "delete delivered hint"}, {"error", result.status().message()}});
      }
    }
    absl::MutexLock lock(&mu_);
    in_flight_[d.home].erase(d.key);
    if (deleted) {
      ++stats_.delivered;
      stats_.delivered_bytes += d.bytes;
    } else if (!d.ok) {
      ++stats_.failed_pushes;
    }
  }
}

bool HandoffManager::TakeTokens(uint64_t bytes, absl::Time now) {
  const double rate = static_cast<double>(options_.bytes_per_second);
  if (last_refill_ == absl::InfinitePast()) {  // the bucket starts full: one second's worth
    last_refill_ = now;
    tokens_ = rate;
  }
  tokens_ = std::min(rate, tokens_ + rate * absl::ToDoubleSeconds(now - last_refill_));
  last_refill_ = now;
  // A hint larger than the bucket goes once the bucket is full.
  const double cost = std::min(static_cast<double>(bytes), rate);
  if (tokens_ < cost) return false;
  tokens_ -= cost;
  return true;
}

void HandoffManager::Push(const std::string& home, absl::Time now) {
  size_t room;
  std::set<std::string> busy;
  {
    absl::MutexLock lock(&mu_);
    busy = in_flight_[home];
    room = options_.max_in_flight - std::min(options_.max_in_flight, busy.size());
  }
  if (room == 0) return;
  for (const HintInfo& hint : hints_->List(home, busy.size() + room)) {
    if (room == 0) break;
    if (busy.count(hint.key) > 0) continue;
    if (hint.created < CreatedCutoff(now)) continue;  // never delivered: ExpireOld drops it
    if (!TakeTokens(hint.bytes, now)) return;
    absl::StatusOr<std::optional<Object>> object = hints_->Read(home, hint.key);
    if (!object.ok() || !object->has_value()) continue;
    pb::ReplicaWriteRequest request;
    request.set_key(hint.key);
    request.set_from(self_);
    ToProto(**object, request.mutable_object());
    {
      absl::MutexLock lock(&mu_);
      in_flight_[home].insert(hint.key);
    }
    --room;
    Delivery delivery{home, hint.key, **object, hint.bytes, false};
    transport_->Write(home, request, now + options_.push_timeout,
                      [this, delivery = std::move(delivery)](
                          absl::StatusOr<pb::ReplicaWriteResponse> reply) mutable {
                        delivery.ok = reply.ok();
                        absl::MutexLock lock(&mu_);
                        finished_.push_back(std::move(delivery));
                      });
  }
}

}  // namespace quorumkv
