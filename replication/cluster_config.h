// The cluster configuration as every component reads it: the
// config.proto message with defaults filled in and every field validated.
#ifndef QUORUMKV_REPLICATION_CLUSTER_CONFIG_H_
#define QUORUMKV_REPLICATION_CLUSTER_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/config.pb.h"

namespace quorumkv {

namespace pb = ::quorumkv::v1;

inline constexpr uint32_t kDefaultReplicationFactor = 3;
inline constexpr uint32_t kDefaultR = 2;
inline constexpr uint32_t kDefaultW = 2;
inline constexpr uint32_t kDefaultVnodesPerNode = 64;
inline constexpr uint32_t kMaxVnodesPerNode = 4096;
inline constexpr uint32_t kDefaultMaxKeyBytes = 1024;
inline constexpr uint64_t kDefaultMaxValueBytes = 1 << 20;
inline constexpr uint64_t kHardMaxValueBytes = 16 << 20;
inline constexpr uint64_t kDefaultMaxObjectBytes = 64 << 20;
inline constexpr uint64_t kDefaultMaxRequestBytesInFlight = 256 << 20;
inline constexpr uint64_t kHardMaxObjectBytes = 256 << 20;
inline constexpr uint32_t kDefaultReplicaTimeoutMs = 2000;
inline constexpr size_t kMaxNodes = 256;
inline constexpr uint32_t kDefaultPingIntervalMs = 100;
inline constexpr uint32_t kDefaultSuspectAfterMs = 500;
inline constexpr uint32_t kDefaultDownAfterMs = 2000;
inline constexpr uint64_t kDefaultMaxHintBytesPerTarget = 256ull << 20;
inline constexpr uint64_t kDefaultMaxHintsPerTarget = 1'000'000;
inline constexpr uint64_t kDefaultMaxHintAgeMs = 3ull * 3600 * 1000;
inline constexpr uint64_t kDefaultHandoffBytesPerSecond = 16ull << 20;
inline constexpr uint32_t kDefaultAntiEntropyIntervalMs = 60'000;
inline constexpr uint32_t kDefaultAntiEntropyKeysPerSecond = 100;
inline constexpr uint64_t kDefaultAntiEntropyBytesPerSecond = 4 << 20;
inline constexpr uint64_t kDefaultTombstoneGraceMs = 10ull * 24 * 3600 * 1000;

// Parses a cluster.textproto, fills defaults and validates it.
// INVALID_ARGUMENT naming the field on any problem.
absl::StatusOr<pb::ClusterConfig> ParseClusterConfig(absl::string_view textproto);

// Fills the defaults of fields left at zero, then validates: node ids
// ([A-Za-z0-9_-]{1,32}) and addresses unique and non-empty, 1 <= R, W <= N <=
// nodes, limits within their hard caps, links between known nodes.
absl::Status ApplyDefaultsAndValidate(pb::ClusterConfig& config);

// The address `from` dials to reach `to`: a configured link, else `to`'s own.
// REQUIRES: `to` is a node of the config.
std::string PeerAddress(const pb::ClusterConfig& config, absl::string_view from,
                        absl::string_view to);

// The namespace of a key: its prefix up to the first '/', or "" (default).
absl::string_view NamespaceOf(absl::string_view key);
pb::ConflictPolicy ConflictPolicyFor(const pb::ClusterConfig& config, absl::string_view key);
// The home acks every write of `key` needs at least: its namespace's
// min_w, else default_min_w (1 after defaults).
uint32_t MinWFor(const pb::ClusterConfig& config, absl::string_view key);

const pb::NodeConfig* FindNode(const pb::ClusterConfig& config, absl::string_view id);

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_CLUSTER_CONFIG_H_
