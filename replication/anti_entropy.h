// Anti-entropy: the home replicas of a ring partition compare their Merkle
// trees (merkle_tree.h, kept by partition_trees.h) and sync the keys that
// differ, so replicas that missed writes catch up even if no read ever
// touches those keys (a dropped hint, a node that was down, a lost disk).
//
// A round visits every partition this node is a home replica of (those
// marked for repair first) and, for each, every other home replica that the
// failure detector does not call down: an exchange. An exchange
//   1. sends the peer its root and gets the peer's back, alone if they
//      agree (then the exchange ends: nothing differs), with the root's
//      children if not;
//   2. asks for the children of the level-1 nodes that differ, which gives
//      the differing segments;
//   3. asks for the peer's objects in those segments, a page at a time
//      (whole segments up to kExchangePageBytes), lists its own in the
//      segments of the page, and for every key whose entry hashes differ
//      merges the peer's object into its replica and sends its own to the
//      peer as a replica write; once the page is merged, asks for the next.
//      Both sides merge (Sync), never overwrite, so after the exchange both
//      hold the merge of what each had.
// The work of an exchange grows with the differences: the hashes of the
// differing tree nodes and the objects of the differing segments.
//
// Rate: at most keys_per_second keys and bytes_per_second of their objects
// are merged (both ways together), token buckets with a burst of one second
// (an object larger than the bucket goes once it is full, and the next
// waits for its debt). A few exchanges run at once; a
// node runs its rounds on their own thread (kvnode: a ticker of its own),
// apart from client requests — the bulkhead.
//
// Tombstone purge (docs/semantics.md, "Purging tombstones"): a round
// starts by listing the tombstones older than the grace period of the
// partitions it covers. Once every exchange of a partition ended well in
// that round, each other home replica holds every such tombstone that is
// still unchanged here (it agreed on the key's entry, took it in the merge,
// or reports it purged), and those are purged; the partition's tree loses
// them and node->purged_keys records them for the peers.
//
// Freshness watermarks (freshness.h): a round opens with a survey of every
// node (does it hold hints, has it dropped one, may it have lost writes),
// and the exchanges start once every node answered or failed to. A
// partition whose exchanges all ended well, whose peers said in none of
// their replies that they may lack writes, and that the survey cleared,
// gets the survey's start as this node's watermark for it.
//
// Store work happens in Tick only, never on a transport callback thread.
#ifndef QUORUMKV_REPLICATION_ANTI_ENTROPY_H_
#define QUORUMKV_REPLICATION_ANTI_ENTROPY_H_

#include <cstdint>
#include <deque>
#include <functional>
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
#include "replication/exchange_answer.h"
#include "replication/freshness.h"
#include "replication/key_repair.h"
#include "replication/merkle_tree.h"
#include "replication/node_context.h"
#include "replication/object.h"

namespace quorumkv {

struct AntiEntropyOptions {
  // Between the starts of two rounds (the first one an interval after the
  // node starts); zero: a round runs only when asked.
  absl::Duration interval = absl::Minutes(1);
  uint32_t keys_per_second = 100;
  uint64_t bytes_per_second = 4 << 20;  // of the objects merged
  absl::Duration call_timeout = absl::Seconds(2);
  // Zero: tombstones are never purged.
  absl::Duration tombstone_grace = absl::ZeroDuration();
};

AntiEntropyOptions AntiEntropyOptionsFor(const pb::ClusterConfig& config);

struct AntiEntropyStats {
  uint64_t rounds_started = 0;
  uint64_t rounds_finished = 0;
  // When the last round over every partition that compared every pair it
  // set out to ended (InfinitePast: none yet; a round asked for one
  // partition does not count).
  absl::Time last_complete_round = absl::InfinitePast();
  // The round running, or else the last one:
  bool running = false;
  bool complete = false;  // it ended with every exchange done
  uint32_t exchanges_total = 0;
  uint32_t exchanges_done = 0;  // ended, well or not
  uint32_t exchanges_failed = 0;
  uint64_t hashes_compared = 0;
  uint64_t keys_differing = 0;
  uint64_t keys_repaired = 0;  // merged both ways
  uint64_t pages_listed = 0;   // listing replies (exchange_answer.h)
  uint64_t bytes_received = 0;
  uint64_t bytes_sent = 0;
  uint64_t tombstones_purged = 0;
  std::string last_error;  // the last failed exchange's reason
};

// Thread-safe; Tick must not run concurrently with itself. Does not own
// `node`.
class AntiEntropy {
 public:
  // Merges objects into this node's replicas of their keys, as replica
  // writes from a peer would (one synced write for the batch).
  using MergeLocally =
      std::function<pb::ReplicaWriteBatchResponse(const pb::ReplicaWriteBatchRequest&)>;

  AntiEntropy(NodeContext* node, MergeLocally merge, AntiEntropyOptions options);

  // Asks for a round over every partition (nullopt) or one, starting once
  // the one running (if any) ends; joins a round of the same scope already
  // asked for and not started. Returns the number the round will have
  // (stats().rounds_finished reaches it when it ends).
  uint64_t RequestRound(std::optional<uint32_t> partition);

  void Tick(absl::Time now);
  AntiEntropyStats stats() const;
  // The stats of the last round that finished, as it finished.
  AntiEntropyStats last_finished() const;

 private:
  // Exchanges running at once (each waits on its peer most of the time).
  static constexpr size_t kMaxExchangesInFlight = 8;

  struct Pair {
    uint32_t partition = 0;
    std::string peer;
  };
  enum class Step { kRoot, kSegmentHashes, kObjects, kMerging };
  struct Exchange {
    uint64_t id = 0;
    Pair pair;
    Step step = Step::kRoot;
    std::vector<uint32_t> differing_nodes;  // level 1
    std::vector<uint32_t> segments;         // differing, not yet merged, ascending
    std::vector<KeyRepair> differing;       // step kMerging: left to merge
    size_t next = 0;
    size_t segments_listed = 0;  // of `segments`, in the page being merged
    absl::Status merge_failure;  // of a local merge
    bool ended = false;
  };
  // A partition of the round: its exchanges not ended yet, whether one
  // failed, and the tombstones to purge once all ended well.
  struct PartitionRound {
    size_t exchanges_left = 0;
    bool failed = false;
    // A peer said it may lack writes (it lost some since the survey).
    bool peer_may_lack_writes = false;
    std::vector<ReplicaStore::Purge> purges;
  };
  // What transport callbacks leave for Tick, per exchange.
  struct Inbox {
    std::optional<absl::StatusOr<pb::ExchangeResponse>> reply;
    size_t pushes_in_flight = 0;
    absl::Status push_failure;
  };

  // Tick's own work; none of it runs under mu_, so that a transport
  // callback running inside a call (which takes mu_) cannot deadlock.
  void StartRoundIfDue(absl::Time now);
  // Starts exchanges up to kMaxExchangesInFlight; ends the round when none
  // is left.
  void StartExchanges(absl::Time now);
  // Asks every node the round's survey; answers for this one and, unasked,
  // for peers the failure detector calls down.
  void StartSurvey(absl::Time now);
  void TakeSurveyAnswers();
  void Send(const Exchange& x, pb::ExchangeRequest request, absl::Time now);
  void OnReply(Exchange& x, const pb::ExchangeResponse& reply, absl::Time now);
  void OnRoot(Exchange& x, const pb::ExchangeResponse& reply, absl::Time now);
  void OnSegmentHashes(Exchange& x, const pb::ExchangeResponse& reply, absl::Time now);
  absl::Status OnObjects(Exchange& x, const pb::ExchangeResponse& reply, absl::Time now);
  // Merges the differing keys the tokens allow; once every one of the page
  // is merged and every push answered, asks for the next page or ends the
  // exchange.
  void MergeSome(Exchange& x, absl::Time now);
  void AskNextPage(Exchange& x, absl::Time now);
  void EndExchange(Exchange& x, const absl::Status& outcome);
  // The partition's exchanges all ended: its watermark becomes the
  // survey's start if they all ended well and nothing held it back.
  void AdvanceWatermark(uint32_t partition, const PartitionRound& round);
  // The tombstones past the grace of the round's partitions
  // (tombstone_purge.h).
  void ListPurges(absl::Time now);
  void EndRound(absl::Time now);
  void RefillTokens(absl::Time now);
  void Count(const std::function<void(AntiEntropyStats&)>& update);
  bool RoundRunning() const;

  NodeContext* const node_;
  const MergeLocally merge_;
  const AntiEntropyOptions options_;

  // Touched by Tick only.
  absl::Time next_round_ = absl::InfinitePast();
  std::deque<Pair> pairs_;  // the round's exchanges not started yet
  std::vector<Exchange> active_;
  uint64_t next_exchange_id_ = 0;
  double tokens_ = 0;
  double byte_tokens_ = 0;
  absl::Time last_refill_ = absl::InfinitePast();
  bool round_failed_ = false;
  bool round_covers_all_ = false;                  // not asked for one partition
  std::map<uint32_t, PartitionRound> partitions_;  // of the round running
  // The exchanges of a round that purges wait until the trees hold every
  // update the listing of tombstones saw (TreeKeepingStore::Began then),
  // so no tree still shows a key as it was before its tombstone.
  uint64_t trees_needed_ = 0;
  // The running round's survey; none for a round with no exchange.
  std::optional<Survey> survey_;

  mutable absl::Mutex mu_;
  AntiEntropyStats stats_ ABSL_GUARDED_BY(mu_);
  AntiEntropyStats last_finished_ ABSL_GUARDED_BY(mu_);
  // Requested rounds not started yet: the partition each covers (nullopt: all).
  std::deque<std::optional<uint32_t>> requested_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, Inbox> inbox_ ABSL_GUARDED_BY(mu_);  // by exchange id, the active ones
  // Survey answers by node, of the round numbered survey_round_ (a late
  // answer to an earlier round's survey is dropped).
  uint64_t survey_round_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, absl::StatusOr<pb::SurveyAnswer>> survey_inbox_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_ANTI_ENTROPY_H_
