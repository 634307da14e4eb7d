// What the narrated demos share: the narrator that prints steps and checks
// expectations, and small helpers to describe replies.
#ifndef QUORUMKV_TOOLS_KVHARNESS_DEMO_SUPPORT_H_
#define QUORUMKV_TOOLS_KVHARNESS_DEMO_SUPPORT_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "client/kv_client.h"
#include "replication/ring.h"
#include "tools/kvharness/local_cluster.h"

namespace quorumkv {

// Prints a demo's steps, what it saw and why; a failed expectation is
// printed and counted, and the demo goes on so the reader sees the rest.
// Not thread-safe.
class Narrator {
 public:
  void Title(const std::string& text);
  void Step(const std::string& text);
  void Saw(const std::string& text);
  void Why(const std::string& text);
  // Returns `ok`.
  bool Expect(bool ok, const std::string& what);
  // Prints the verdict; 0 if every expectation held, else 1.
  int Verdict();

 private:
  int step_ = 0;
  int failures_ = 0;
};

// A client of `endpoints` ("HOST:PORT,..."); never null.
std::unique_ptr<KvClient> ClientFor(const LocalCluster& cluster, const std::string& endpoints);
// ["a", "b"]: the live values of a get.
std::string Values(const v1::GetResponse& r);
// "n1, n2 (for n3)": who answered.
std::string Replied(const v1::QuorumInfo& q);

// What `client`'s node reports of `node` once `done` holds for it, polled
// every 50 ms; nullopt if it does not within `timeout`.
std::optional<v1::NodeStatus> WaitForStatus(KvClient& client, const std::string& node,
                                            absl::Duration timeout,
                                            const std::function<bool(const v1::NodeStatus&)>& done);
// Asks `client`'s node for an anti-entropy round of ring partition
// `partition` (kvctl repair --node N --partition P) and waits until it
// ends, polled every 50 ms: its report, or DEADLINE_EXCEEDED after
// `timeout`.
absl::StatusOr<v1::RepairResponse> RunRepairRound(KvClient& client, uint32_t partition,
                                                  absl::Duration timeout);
// "123 ms".
std::string Ms(absl::Duration d);
// The fallbacks that stood in for a home replica in `q`.
std::vector<std::string> StandIns(const v1::QuorumInfo& q);

// The players of a demo about one key's replicas.
struct Cast {
  std::string key;
  PreferenceList pref;
  std::string victim;       // the home replica that fails
  std::string coordinator;  // another home replica the demo talks to
  uint32_t n = 0;
  uint32_t partition = 0;  // the key's ring partition
};
// A fresh key "<prefix><microseconds>", its first home replica as the
// victim and its last as the coordinator, from the ring `client` reads.
absl::StatusOr<Cast> ChooseCast(KvClient& client, const std::string& prefix);
// ChooseCast for demo `demo`, which needs a fallback to stand in for a home
// replica: FAILED_PRECONDITION, saying so, unless the cluster has more
// nodes than N.
absl::StatusOr<Cast> CastWithFallbacks(LocalCluster& cluster, const std::string& demo,
                                       const std::string& prefix);
// Prints why there is no cast; the demo's exit code (2: the cluster is
// not one the demo can run on).
int NoCast(const absl::Status& why);

// The demos (see demos.h).
int SiblingsDemo(LocalCluster& cluster);
int SloppyQuorumDemo(LocalCluster& cluster);
int StrictVsSloppyDemo(LocalCluster& cluster);
int LwwLossDemo(LocalCluster& cluster);
int ReadYourWritesDemo(LocalCluster& cluster);    // demo_sessions.cc
int BoundedStalenessDemo(LocalCluster& cluster);  // demo_sessions.cc

}  // namespace quorumkv

#endif  // QUORUMKV_TOOLS_KVHARNESS_DEMO_SUPPORT_H_
