// What the parts of one node share: its options and ring, its store and
// clock, and the components every path consults (hybrid clock, failure
// detector, health-tracking transport, handoff, write groups, the
// empty-start check), with the small decisions several paths make alike.
//
// ReplicaNode (replica_node.h) owns one and hands it to each part: the put
// path (put_path.h), the get path (get_path.h), the replica protocol
// (replica_protocol.h) and the cluster-status round (cluster_status.h).
// Thread-safe as its members are. Does not own the store, transport or
// clock.
#ifndef QUORUMKV_REPLICATION_NODE_CONTEXT_H_
#define QUORUMKV_REPLICATION_NODE_CONTEXT_H_

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/config.pb.h"
#include "replication/clock.h"
#include "replication/empty_start.h"
#include "replication/failure_detector.h"
#include "replication/freshness.h"
#include "replication/handoff.h"
#include "replication/health_tracking_transport.h"
#include "replication/hints.h"
#include "replication/hlc.h"
#include "replication/issued_dots.h"
#include "replication/log_episode.h"
#include "replication/object.h"
#include "replication/partition_trees.h"
#include "replication/purged_keys.h"
#include "replication/quorum_slots.h"
#include "replication/replica_store.h"
#include "replication/ring.h"
#include "replication/transport.h"
#include "replication/write_group.h"

namespace quorumkv {

namespace pb = ::quorumkv::v1;

// Live siblings at which a write logs a warning, and past which a write that
// adds one more is refused with FAILED_PRECONDITION.
inline constexpr size_t kSiblingWarnThreshold = 25;
inline constexpr size_t kMaxSiblings = 100;
// Time a peer has to answer a status ping.
inline constexpr absl::Duration kStatusPingTimeout = absl::Milliseconds(500);
// A replica refuses a merge whose siblings would hold more value bytes than
// this many times max_object_bytes (coordinators refuse writes past 1x;
// merges of concurrent writes can exceed it). Messages are sized to fit.
inline constexpr uint64_t kMergedObjectFactor = 3;
// A replica's answer to a batch of reads holds about this much at most.
inline constexpr uint64_t kMaxReadBatchReplyBytes = 4 << 20;

struct ReplicaNodeOptions {
  std::string self;          // this node's id
  pb::ClusterConfig config;  // validated (ApplyDefaultsAndValidate)
  // Where the coordinator's group-committed writes block on disk
  // (write_group.h). Unset: on the thread of the put that starts a group.
  WriteGroup::RunBlocking run_blocking;
};

struct NodeContext {
  // REQUIRES: options.self is in options.config, `ring` built from it.
  NodeContext(ReplicaNodeOptions options, Ring ring, ReplicaStore* store, Hints* hints,
              Transport* transport, Clock* clock);
  NodeContext(const NodeContext&) = delete;
  NodeContext& operator=(const NodeContext&) = delete;

  const std::string& self() const { return options.self; }
  const pb::ClusterConfig& config() const { return options.config; }

  // The deadline for a replica call of a request due at `deadline`: a bit
  // earlier, so the coordinator can still answer in time, and no later than
  // replica_timeout_ms from now.
  absl::Time ReplicaDeadline(absl::Time deadline) const;
  MergePolicy PolicyFor(absl::string_view key) const;
  // The peer may take requests: the failure detector calls it up.
  QuorumSlots::Healthy HealthyFn() const;
  // For a strict request that needs `required` home replicas of `home`:
  // UNAVAILABLE when the failure detector already knows too many of them
  // are down for the quorum to be met, so that it is refused before
  // anything is sent. `param` is "R" or "W"; `untouched` says what was
  // spared ("nothing written").
  absl::Status CheckStrictQuorumReachable(const std::vector<std::string>& home, uint32_t required,
                                          absl::string_view param,
                                          absl::string_view untouched) const;
  // FAILED_PRECONDITION unless this node is a home replica of `key`.
  absl::Status CheckHome(const std::string& key) const;
  // Whether this node's replica of `key` may lack writes it acknowledged:
  // the key's partition is marked for repair (after a restart that lost
  // writes, every partition is), or the node started on an empty directory
  // and does not know yet whether it held data before.
  bool MayLackWrites(const std::string& key) const;
  // The same, for every key of ring partition `partition`.
  bool MayLackWritesIn(uint32_t partition) const;
  // The age of this node's freshness watermark for `key`'s partition
  // (freshness.h), or nullopt: read it before the replica it speaks for.
  std::optional<absl::Duration> WatermarkAgeOf(const std::string& key) const;

  const ReplicaNodeOptions options;
  const Ring ring;
  // The Merkle trees of this node's partitions, kept equal to its store:
  // every write goes through tree_keeping_store (`store` is it).
  PartitionTrees trees;
  TreeKeepingStore tree_keeping_store;
  ReplicaStore* const store;
  Hints* const hints;
  Clock* const clock;
  HybridClock hlc;
  FailureDetector detector;
  // Every call goes through it, so that every answer informs the detector
  // (but anti-entropy's exchanges, whose bulk listings say nothing of how
  // the peer serves requests).
  HealthTrackingTransport transport;
  HandoffManager handoff;
  // The local writes of the puts this node coordinates and the merges of
  // the replica writes other nodes send it, group-committed.
  WriteGroup write_group;
  // Whether an empty start was a wiped disk, and what this node answers
  // peers asking the same (empty_start.h).
  EmptyStartCheck empty_start;
  PeersHoldingData peers_holding_data;
  // What each peer's actor may have issued (its pings): replica writes
  // carrying dots above it are refused.
  IssuedDots issued_dots;
  // The tombstones anti-entropy purged lately, which it tells peers about.
  PurgedKeys purged_keys;
  // When this node's last complete anti-entropy round ended, in Unix
  // microseconds of `clock` (INT64_MIN: none since it started); written by
  // anti_entropy.h, told to pinging peers.
  std::atomic<int64_t> last_complete_repair_round_us{INT64_MIN};
  // Up to when this node's replicas hold every acknowledged write, per
  // partition: set by anti-entropy, told with read replies.
  FreshnessWatermarks watermarks;
  // Writes that leave a key with kSiblingWarnThreshold siblings or more,
  // logged once per episode (its first key named).
  LogEpisode many_siblings_log{LogLevel::kWarning, "many_siblings", absl::Minutes(1)};
  // The store refusing background work (purging tombstones, recording
  // peers' actors), which retries every tick or round: once per episode.
  LogEpisode store_error_log{LogLevel::kError, "background_store_error", absl::Minutes(1)};
};

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_NODE_CONTEXT_H_
