// `kvharness demo siblings`.
#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/common/output.h"
#include "tools/kvharness/demo_support.h"

namespace quorumkv {

// put, get, kill a replica, get again, concurrent writes -> siblings,
// resolution, and read repair of the returning replica.
int SiblingsDemo(LocalCluster& cluster) {
  Narrator n;
  absl::StatusOr<std::string> endpoints = cluster.Endpoints();
  absl::StatusOr<v1::ClusterConfig> config = cluster.Config();
  if (!endpoints.ok() || !config.ok() || config->nodes_size() < 3) {
    std::fprintf(stderr, "demo siblings needs a cluster of 3+ nodes: kvharness up --nodes 3\n");
    return 2;
  }
  const std::string a = config->nodes(0).id(), b = config->nodes(1).id();
  const std::string victim = config->nodes(2).id();
  auto client = ClientFor(cluster, *endpoints);
  auto via_a = ClientFor(cluster, *cluster.EndpointOf(a));
  auto via_b = ClientFor(cluster, *cluster.EndpointOf(b));
  const std::string key = absl::StrCat("demo/greeting-", absl::ToUnixMicros(absl::Now()));

  n.Title(absl::StrCat("siblings: concurrent writes are kept, never silently dropped (N=",
                       config->replication_factor(), ", R=", config->default_r(),
                       ", W=", config->default_w(), ")"));
  n.Step(absl::StrCat("put ", key, " = \"hello\""));
  absl::StatusOr<v1::PutResponse> put = client->Put(key, "hello");
  if (n.Expect(put.ok(), absl::StrCat("put failed: ", put.status().ToString()))) {
    n.Saw(absl::StrCat("stored with dot ", DotString(put->dot()), ", acked by ",
                       Replied(put->quorum())));
  }

  n.Step("get it back");
  absl::StatusOr<v1::GetResponse> got = client->Get(key);
  n.Expect(got.ok() && LiveValues(*got) == std::vector<std::string>{"hello"}, "expected \"hello\"");
  if (got.ok()) n.Saw(absl::StrCat(Values(*got), " from ", Replied(got->quorum())));

  n.Step(absl::StrCat("kill -9 ", victim, ": one of the three replicas is gone"));
  n.Expect(cluster.Kill(victim).ok(), "could not kill the node");
  got = client->Get(key);
  n.Expect(got.ok() && LiveValues(*got) == std::vector<std::string>{"hello"},
           absl::StrCat("get after the kill: ", got.status().ToString()));
  if (got.ok()) {
    n.Saw(absl::StrCat(Values(*got), " from ", Replied(got->quorum())));
    n.Why("two of three replicas still answer, and R=2 needs only two");
  }

  n.Step("alice and bob both read it, then write at the same time, through different nodes");
  const std::string context = got.ok() ? got->context() : "";
  absl::StatusOr<v1::PutResponse> alice = via_a->Put(key, "hello from alice", {.context = context});
  absl::StatusOr<v1::PutResponse> bob = via_b->Put(key, "hello from bob", {.context = context});
  n.Expect(alice.ok() && bob.ok(), "a concurrent write failed");
  if (alice.ok() && bob.ok()) {
    n.Saw(absl::StrCat("alice's write got dot ", DotString(alice->dot()), " via ", a,
                       "; bob's got ", DotString(bob->dot()), " via ", b));
  }

  n.Step("read the key");
  got = client->Get(key);
  const bool both = got.ok() && LiveValues(*got).size() == 2;
  n.Expect(both, "expected both writes as siblings");
  if (got.ok()) {
    n.Saw(absl::StrCat("conflict: ", HasConflict(*got) ? "true" : "false", ", siblings ",
                       Values(*got)));
    n.Why(
        "neither write had seen the other (same context), so neither may replace the other;"
        " the store keeps both and lets the application decide");
  }

  n.Step("resolve: write the merged value with the context of that read");
  put = client->Put(key, "hello from alice and bob", {.context = got.ok() ? got->context() : ""});
  got = client->Get(key);
  n.Expect(got.ok() && LiveValues(*got) == std::vector<std::string>{"hello from alice and bob"},
           "expected one resolved value");
  if (got.ok()) n.Saw(absl::StrCat(Values(*got), ": the context covered both siblings"));

  n.Step(absl::StrCat("restart ", victim, ", then read with R=3"));
  n.Expect(cluster.Restart(victim).ok(), "could not restart the node");
  got = client->Get(key, {.r = 3});
  n.Expect(got.ok() && LiveValues(*got).size() == 1,
           absl::StrCat("get R=3: ", got.status().ToString()));
  if (got.ok()) {
    const auto& repaired = got->quorum().repaired();
    n.Saw(absl::StrCat(Values(*got), " from ", Replied(got->quorum()), "; read-repaired: ",
                       repaired.empty() ? "none" : absl::StrJoin(repaired, ", ")));
    if (std::find(repaired.begin(), repaired.end(), victim) != repaired.end()) {
      n.Why(absl::StrCat(victim,
                         " missed the writes while it was down; the read found it behind"
                         " and wrote the merged object back to it"));
    } else {
      n.Why(absl::StrCat(victim,
                         " had caught up already: a write still on its way to it when it"
                         " came back reached it"));
    }
  }
  return n.Verdict();
}

}  // namespace quorumkv
