#include "replication/quorum_slots.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "replication/transport.h"

namespace quorumkv {

absl::Time AttemptDeadline(const SlotSend& send, bool may_fall_back, absl::Time now,
                           absl::Time deadline) {
  if (!may_fall_back || !send.hinted_for.empty() || deadline <= now) return deadline;
  return now + (deadline - now) / 2;
}

QuorumSlots::QuorumSlots(const PreferenceList& pref, uint32_t required, bool sloppy,
                         Healthy healthy, absl::Time start, uint32_t first_wave,
                         uint32_t required_home)
    : pref_(pref),
      required_(required),
      sloppy_(sloppy),
      healthy_(std::move(healthy)),
      start_(start),
      first_wave_(std::max(first_wave, required)),
      required_home_(required_home) {
  for (const std::string& home : pref_.home) {
    slots_.push_back(Slot{.home = home, .node = home});
    used_.insert(home);
  }
}

std::optional<std::string> QuorumSlots::NextFallback() {
  for (const std::string& f : pref_.fallbacks) {
    if (used_.count(f) == 0 && healthy_(f)) return f;
  }
  return std::nullopt;
}

SlotSend QuorumSlots::StartSlot(Slot& slot) {
  slot.state = State::kPending;
  if (sloppy_ && !healthy_(slot.home)) {
    // Routed around before trying: down, suspect or slow. Without a
    // healthy fallback the home is tried anyway.
    if (std::optional<std::string> f = NextFallback()) {
      slot.node = *f;
      used_.insert(*f);
      return SlotSend{*f, slot.home};
    }
  }
  return SlotSend{slot.home, ""};
}

std::vector<SlotSend> QuorumSlots::Start(const std::string& local) {
  uint32_t started = 0;
  for (const Slot& slot : slots_) started += slot.home == local;
  // Healthy homes first; the slots past the first wave wait as spares.
  std::vector<Slot*> order;
  for (Slot& slot : slots_) {
    if (slot.home != local && healthy_(slot.home)) order.push_back(&slot);
  }
  for (Slot& slot : slots_) {
    if (slot.home != local && !healthy_(slot.home)) order.push_back(&slot);
  }
  for (Slot* slot : order) {
    if (started >= first_wave_) slot->state = State::kSpare;
    ++started;
  }
  std::vector<SlotSend> sends;  // in slot order
  for (Slot& slot : slots_) {
    if (slot.home != local && slot.state == State::kPending) sends.push_back(StartSlot(slot));
  }
  return sends;
}

QuorumSlots::Slot* QuorumSlots::SlotWaitingOn(const std::string& node) {
  for (Slot& slot : slots_) {
    if (slot.node == node && slot.state == State::kPending) return &slot;
  }
  return nullptr;
}

std::optional<SlotSend> QuorumSlots::OnReply(const std::string& from, const absl::Status& status,
                                             absl::Time now) {
  Slot* slot = SlotWaitingOn(from);
  if (slot == nullptr) return std::nullopt;
  if (status.ok()) {
    slot->state = State::kOk;
    slot->latency = std::max(now - start_, absl::ZeroDuration());
    answered_order_.push_back(from);
    return std::nullopt;
  }
  slot->failures.push_back(Failure{from, status});
  for (Slot& spare : slots_) {
    if (spare.state != State::kSpare) continue;
    slot->state = State::kFailed;
    return StartSlot(spare);
  }
  if (sloppy_) {
    if (std::optional<std::string> f = NextFallback()) {
      slot->node = *f;
      used_.insert(*f);
      return SlotSend{*f, slot->home};
    }
  }
  slot->state = State::kFailed;
  return std::nullopt;
}

void QuorumSlots::ExpirePending() {
  for (Slot& slot : slots_) {
    if (slot.state != State::kPending) continue;
    slot.failures.push_back(
        Failure{slot.node, absl::DeadlineExceededError("no answer before the deadline")});
    slot.state = State::kFailed;
  }
}

uint32_t QuorumSlots::successes() const {
  return static_cast<uint32_t>(std::count_if(slots_.begin(), slots_.end(),
                                             [](const Slot& s) { return s.state == State::kOk; }));
}

uint32_t QuorumSlots::home_successes() const {
  return static_cast<uint32_t>(std::count_if(slots_.begin(), slots_.end(), [](const Slot& s) {
    return s.state == State::kOk && s.node == s.home;
  }));
}

QuorumState QuorumSlots::state() const {
  const uint32_t failed = static_cast<uint32_t>(std::count_if(
      slots_.begin(), slots_.end(), [](const Slot& s) { return s.state == State::kFailed; }));
  // Spares may still start at their home: they count as pending there.
  const uint32_t home_pending =
      static_cast<uint32_t>(std::count_if(slots_.begin(), slots_.end(), [](const Slot& s) {
        return (s.state == State::kPending || s.state == State::kSpare) && s.node == s.home;
      }));
  return EvaluateQuorumWithHomes(successes(), failed, static_cast<uint32_t>(slots_.size()),
                                 required_, home_successes(), home_pending, required_home_);
}

bool QuorumSlots::all_answered() const {
  return std::none_of(slots_.begin(), slots_.end(),
                      [](const Slot& s) { return s.state == State::kPending; });
}

bool QuorumSlots::Answered(const std::string& node, std::string* home) const {
  for (const Slot& slot : slots_) {
    if (slot.node == node && slot.state == State::kOk) {
      if (home != nullptr) *home = slot.home;
      return true;
    }
  }
  return false;
}

std::optional<std::string> QuorumSlots::HomeWaitingOn(const std::string& node) const {
  for (const Slot& slot : slots_) {
    if (slot.node == node && slot.state == State::kPending) return slot.home;
  }
  return std::nullopt;
}

absl::Status QuorumSlots::QuorumError(Kind kind, absl::string_view noun, absl::string_view param,
                                      absl::string_view note) const {
  std::vector<std::string> why;
  bool unknown = false;
  for (const Slot& slot : slots_) {
    for (const Failure& f : slot.failures) {
      const std::string who =
          f.node == slot.home ? f.node : absl::StrCat(f.node, " (for ", slot.home, ")");
      if (f.status.code() == absl::StatusCode::kDeadlineExceeded) {
        unknown = true;
        why.push_back(absl::StrCat(who, ": no answer in time"));
      } else if (kind == Kind::kWrite && OutcomeUnknown(f.status)) {
        unknown = true;
        why.push_back(absl::StrCat(who, ": outcome unknown (", f.status.message(), ")"));
      } else {
        why.push_back(absl::StrCat(who, ": ", f.status.message()));
      }
    }
    if (slot.state == State::kPending) why.push_back(absl::StrCat(slot.node, ": no answer yet"));
  }
  std::string summary = absl::StrCat("got ", successes(), " of ", param, "=", required_, " ", noun);
  if (home_successes() < required_home_) {
    absl::StrAppend(&summary, ", ", home_successes(), " of min_w=", required_home_, " home ", noun,
                    " (fallbacks holding hints do not count)");
  }
  if (!why.empty()) absl::StrAppend(&summary, " (", absl::StrJoin(why, "; "), ")");
  if (unknown) {
    return absl::DeadlineExceededError(
        absl::StrCat("deadline exceeded, outcome unknown: ", summary, note));
  }
  return absl::UnavailableError(absl::StrCat("quorum not met: ", summary, note));
}

void QuorumSlots::FillQuorumInfo(pb::QuorumInfo* info) const {
  info->set_required(required_);
  info->set_n(static_cast<uint32_t>(slots_.size()));
  info->set_sloppy(sloppy_);
  info->clear_replied();
  info->clear_failed();
  info->clear_fallbacks();
  for (const std::string& node : answered_order_) {
    for (const Slot& slot : slots_) {
      if (slot.node != node || slot.state != State::kOk) continue;
      pb::ReplicaAnswer* r = info->add_replied();
      r->set_node(node);
      r->set_latency_us(static_cast<uint64_t>(absl::ToInt64Microseconds(slot.latency)));
      if (node != slot.home) {
        r->set_fallback(true);
        r->set_hinted_for(slot.home);
        info->add_fallbacks(node);
      }
    }
  }
  for (const Slot& slot : slots_) {
    for (const Failure& f : slot.failures) info->add_failed(f.node);
  }
}

}  // namespace quorumkv
