// Freshness watermarks: how a home replica proves a staleness bound when
// strict overlap does not hold (docs/consistency.md, "Bounded staleness").
//
// A home replica's watermark for a ring partition is a time W such that
// its replica holds every write to the partition's keys acknowledged before
// W. Anti-entropy sets it (anti_entropy.h): a round that starts at time S
// first asks every node of the cluster (the survey), then exchanges with
// every other home replica of each partition. Where did a write
// acknowledged before S stand when the last node answered the survey?
// Every copy of it is on a home replica (where it stays) or in a hint
// (kept until it is handed to a home replica, or dropped for age). So
// when no node held a hint for any home replica of the partition, none
// had dropped one (that marks the partition for repair, durably), and no
// node may have lost writes (an unsettled empty start, or a loss marking
// every partition), the write was on a home replica before the exchanges
// began. An exchange leaves this node holding every object the peer held
// when it answered; a peer that lost writes since (a wiped disk, a power
// loss without sync) says so in every reply. So once every exchange of
// the partition ended well and no peer said so, this node holds the write:
// W = S.
//
// Clocks: W is read from Clock::Steady, this node's clock that never
// jumps, and only this node compares with it. A replica answering a read
// tells its watermark's age, read from the same clock before it reads its
// replica: a reply holding every write acknowledged `age` before it was
// read reflects every write acknowledged `age` before the read began, since
// the replica answered after the client asked. No clock offset between
// nodes enters the bound.
//
// Memory only: a restart forgets every watermark (unknown until the next
// round), which is safe; a node that may have lost writes in it says so
// in its replies, and their ages are not used then.
#ifndef QUORUMKV_REPLICATION_FRESHNESS_H_
#define QUORUMKV_REPLICATION_FRESHNESS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/replica.pb.h"

namespace quorumkv {

class Hints;
class ReplicaStore;
class EmptyStartCheck;

namespace pb = ::quorumkv::v1;

// Thread-safe.
class FreshnessWatermarks {
 public:
  // The replica holds every write to `partition` acknowledged before
  // `steady_time` (Clock::Steady). A watermark never moves back.
  void Advance(uint32_t partition, absl::Time steady_time);
  // How long before `steady_now` the watermark of `partition` lies, or
  // nullopt if there is none (or it lies after `steady_now`). Read it
  // before the replica it speaks for.
  std::optional<absl::Duration> AgeOf(uint32_t partition, absl::Time steady_now) const;

 private:
  mutable absl::Mutex mu_;
  std::map<uint32_t, absl::Time> watermarks_ ABSL_GUARDED_BY(mu_);
};

// This node's answer to a survey: the home replicas it holds hints for,
// the partitions it has marked for repair, and whether it may have lost
// writes it acknowledged.
absl::StatusOr<pb::SurveyAnswer> AnswerSurvey(Hints& hints, ReplicaStore& store,
                                              const EmptyStartCheck& empty);

// The survey of an anti-entropy round, gathered from every node. Not
// thread-safe (anti-entropy's Tick owns it).
class Survey {
 public:
  // `nodes`: every node of the cluster, this one included; `sent`: when
  // the first question left, on Clock::Steady.
  Survey(const std::vector<std::string>& nodes, absl::Time sent);

  // An answer without `answered` (from a node that does not know surveys)
  // counts as a failure.
  void OnAnswer(const std::string& node, const pb::SurveyAnswer& answer);
  // No answer from `node`: no partition's watermark moves this round.
  void OnFailure(const std::string& node);
  bool done() const { return waiting_.empty(); }
  absl::Time sent() const { return sent_; }
  // Whether the round may advance the watermark of a partition with these
  // home replicas (once every exchange of it ended well). REQUIRES: done().
  bool Clears(uint32_t partition, const std::vector<std::string>& home) const;

 private:
  absl::Time sent_;
  std::set<std::string> waiting_;
  bool failed_ = false;
  bool may_lack_writes_ = false;
  std::set<std::string> homes_hinted_;
  std::set<uint32_t> marked_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_FRESHNESS_H_
