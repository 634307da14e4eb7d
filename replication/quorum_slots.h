// Which replicas a request goes to, and what they answered.
//
// A request has one slot per home replica of its key. A slot is served by
// its home replica, or — when the request is sloppy and the home is not
// healthy, or fails — by the next healthy fallback of the preference list,
// standing in for it (a write then stores a hint for the home). Slots, not
// nodes, make the quorum: R or W slots must answer. Strict requests never
// use fallbacks.
#ifndef QUORUMKV_REPLICATION_QUORUM_SLOTS_H_
#define QUORUMKV_REPLICATION_QUORUM_SLOTS_H_

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "proto/kv.pb.h"
#include "replication/quorum.h"
#include "replication/ring.h"

namespace quorumkv {

namespace pb = ::quorumkv::v1;

// One message to send for a slot.
struct SlotSend {
  std::string to;
  std::string hinted_for;  // empty when `to` is the home replica itself
};

// The deadline for one send of a request whose replicas must answer by
// `deadline`. When a failed send may be followed by another (`may_fall_back`:
// a sloppy request with fallbacks, or a get with spare home replicas) and the
// send goes to a home replica, it gets half the time left, so that a home
// replica that hangs still leaves a fallback or a spare time to answer.
// Everything else gets all of it.
absl::Time AttemptDeadline(const SlotSend& send, bool may_fall_back, absl::Time now,
                           absl::Time deadline);

// A value type; not thread-safe.
class QuorumSlots {
 public:
  using Healthy = std::function<bool(const std::string& node)>;
  enum class Kind { kRead, kWrite };

  // `first_wave`: how many slots Start sends to (the caller's local slot
  // counts); the others are spares, sent to only when a slot fails.
  // `required_home`: of the `required` successes, how many must come from
  // home replicas themselves (a write's min_w).
  QuorumSlots(const PreferenceList& pref, uint32_t required, bool sloppy, Healthy healthy,
              absl::Time start, uint32_t first_wave = UINT32_MAX, uint32_t required_home = 0);

  // The sends for every slot, except the slot of `local` (a home replica
  // the caller serves itself and reports through OnReply).
  std::vector<SlotSend> Start(const std::string& local);

  // Records an answer from `from`; answers from nodes no slot waits on are
  // ignored. When a slot fails and a spare slot is left, the spare is
  // started; otherwise, when a sloppy slot fails and a healthy fallback is
  // left, the slot moves to it. Returns the send to make, if any.
  std::optional<SlotSend> OnReply(const std::string& from, const absl::Status& status,
                                  absl::Time now);
  // The deadline passed: slots still waiting count as timed out.
  void ExpirePending();

  QuorumState state() const;
  bool all_answered() const;
  uint32_t successes() const;
  uint32_t home_successes() const;
  // True if `node` answered for a slot, and for which home (itself or the
  // home it stood in for).
  bool Answered(const std::string& node, std::string* home = nullptr) const;
  // The home of the slot waiting on `node` (itself, or the home it stands
  // in for), if a slot waits on it.
  std::optional<std::string> HomeWaitingOn(const std::string& node) const;

  // The failure of a missed quorum. For a write, DEADLINE_EXCEEDED
  // ("outcome unknown") when some replica's failure leaves its outcome
  // unknown (a timeout, a cancelled call, a connection broken mid-call); for
  // a read, only when some replica timed out. Otherwise UNAVAILABLE ("quorum
  // not met: got 1 of W=2 acks"), also when definite failures alone made the
  // quorum impossible before every slot answered. `noun` is "acks" or
  // "replies", `param` "W" or "R"; `note` is appended.
  absl::Status QuorumError(Kind kind, absl::string_view noun, absl::string_view param,
                           absl::string_view note) const;
  // Sets required, n, sloppy, replied (with latencies and the homes
  // fallbacks stood in for), fallbacks (those that answered) and failed.
  void FillQuorumInfo(pb::QuorumInfo* info) const;

 private:
  enum class State { kSpare, kPending, kOk, kFailed };
  struct Failure {
    std::string node;
    absl::Status status;
  };
  struct Slot {
    std::string home;
    std::string node;  // serving now
    State state = State::kPending;
    absl::Duration latency;
    std::vector<Failure> failures;  // in order, including replaced nodes
  };
  Slot* SlotWaitingOn(const std::string& node);
  std::optional<std::string> NextFallback();
  // Starts `slot`: to its home, or in a sloppy request to a healthy
  // fallback when the home is not healthy (the home anyway if none is).
  SlotSend StartSlot(Slot& slot);

  const PreferenceList pref_;
  const uint32_t required_;
  const bool sloppy_;
  const Healthy healthy_;
  const absl::Time start_;
  const uint32_t first_wave_;
  const uint32_t required_home_;
  std::vector<Slot> slots_;
  std::set<std::string> used_;  // every node a slot has gone to
  std::vector<std::string> answered_order_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_QUORUM_SLOTS_H_
