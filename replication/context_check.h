// Checks of a client's causal context against what the cluster has issued.
//
// A context is opaque to clients but not authenticated: a client can send
// any bytes that decode. Stored as is, a forged entry would poison the key:
// an entry "n2.<epoch>: 2^63" covers every dot n2 will ever issue for it, so
// replicas would drop n2's later writes as superseded (or its coordinator
// refuse them), and thousands of invented actors would fill the stored
// context until no coordinator could add its own. So a coordinator stores
// a context only when every entry names a write some home replica of the
// key has seen: entries above its own replica's context are refused at once
// if they name no node of the cluster, else checked with the other home
// replicas (a genuine context may come from replicas this one lags
// behind), and refused if none has seen them.
#ifndef QUORUMKV_REPLICATION_CONTEXT_CHECK_H_
#define QUORUMKV_REPLICATION_CONTEXT_CHECK_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "proto/config.pb.h"
#include "replication/transport.h"
#include "replication/version_vector.h"

namespace quorumkv {

namespace pb = ::quorumkv::v1;

// INVALID_ARGUMENT unless the actor of every dot of `unseen` (entries a
// context names above what the coordinator has seen) is one of a node of
// the config ("<node id>.<epoch>[.<generation>]"), naming the first that is
// not. Entries already seen are not asked: a key may hold actors of a node
// since removed, or of a bulk load.
absl::Status CheckUnseenActors(const pb::ClusterConfig& config, const std::vector<Dot>& unseen);

// The entries of `context` that `seen` does not cover: writes the client
// says it saw and the holder of `seen` has not. Each as the dot of the
// highest counter claimed.
std::vector<Dot> UnseenBy(const VersionVector& seen, const VersionVector& context);

// What the other home replicas of a key have seen of it.
struct HomesSeen {
  VersionVector seen;        // the merge of their contexts
  bool all_answered = true;  // false if one failed or did not answer in time
};

// Reads `key` from each of `homes` (the coordinator's own excluded) through
// `transport`, and calls `done` once with the merge of their contexts, when
// all answered or failed. `done` may run on any thread, maybe before this
// returns.
void AskHomesWhatTheySaw(Transport* transport, const std::string& self, const std::string& key,
                         const std::vector<std::string>& homes, absl::Time deadline,
                         std::function<void(HomesSeen)> done);

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_CONTEXT_CHECK_H_
