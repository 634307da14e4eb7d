// `kvharness demo lww-loss`: the same two concurrent writes, in a namespace
// that keeps siblings and in a last-writer-wins one (kvharness's clusters
// make keys under lww/ LWW). Both writes are acknowledged in both; the LWW
// namespace keeps one and silently drops the other.
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "tools/common/output.h"
#include "tools/kvharness/demo_support.h"

namespace quorumkv {
namespace {

// Alice and Bob each read `key`, then write through their own node without
// seeing the other's write. Returns the values a read finds after.
std::vector<std::string> ConcurrentCartUpdates(Narrator& n, KvClient& alice, KvClient& bob,
                                               const std::string& key) {
  absl::StatusOr<v1::PutResponse> put = alice.Put(key, "milk");
  n.Expect(put.ok(), absl::StrCat("the first put failed: ", put.status().ToString()));
  absl::StatusOr<v1::GetResponse> read = alice.Get(key);
  const std::string context = read.ok() ? read->context() : "";
  absl::StatusOr<v1::PutResponse> a = alice.Put(key, "milk, apples", {.context = context});
  absl::StatusOr<v1::PutResponse> b = bob.Put(key, "milk, bread", {.context = context});
  if (n.Expect(a.ok() && b.ok(), "a concurrent write failed")) {
    n.Saw(absl::StrCat("alice's \"milk, apples\" acked by ", Replied(a->quorum()),
                       "; bob's \"milk, bread\" acked by ", Replied(b->quorum())));
  }
  absl::StatusOr<v1::GetResponse> after = alice.Get(key, {.r = 3});
  n.Expect(after.ok(), absl::StrCat("the read failed: ", after.status().ToString()));
  if (!after.ok()) return {};
  n.Saw(absl::StrCat("a read of all three replicas: ", Values(*after)));
  return LiveValues(*after);
}

}  // namespace

int LwwLossDemo(LocalCluster& cluster) {
  Narrator n;
  absl::StatusOr<v1::ClusterConfig> config = cluster.Config();
  if (!config.ok() || config->nodes_size() < 2) {
    std::fprintf(stderr, "demo lww-loss needs a cluster of 2+ nodes: kvharness up --nodes 3\n");
    return 2;
  }
  const std::string a = config->nodes(0).id(), b = config->nodes(1).id();
  auto alice = ClientFor(cluster, *cluster.EndpointOf(a));
  auto bob = ClientFor(cluster, *cluster.EndpointOf(b));
  const std::string suffix = absl::StrCat("cart-", absl::ToUnixMicros(absl::Now()));

  n.Title("lww-loss: the same concurrent writes, kept as siblings, then lost to last-writer-wins");
  n.Step(absl::StrCat("demo/", suffix, " (siblings kept): alice (via ", a, ") and bob (via ", b,
                      ") read the cart, then both add to it at once"));
  const std::vector<std::string> kept = ConcurrentCartUpdates(n, *alice, *bob, "demo/" + suffix);
  n.Expect(kept.size() == 2, "both writes should be kept as siblings");
  n.Why(
      "neither write had seen the other, so neither may replace the other: the reader gets both "
      "and merges them (\"milk, apples, bread\")");

  n.Step(absl::StrCat("lww/", suffix, " (last writer wins): the same two writes"));
  const std::vector<std::string> left = ConcurrentCartUpdates(n, *alice, *bob, "lww/" + suffix);
  n.Expect(left.size() == 1, "last-writer-wins should keep exactly one write");
  if (left.size() == 1) {
    const std::string lost =
        left[0] == "milk, apples" ? "\"milk, bread\" (bob's)" : "\"milk, apples\" (alice's)";
    n.Why(absl::StrCat(
        "both writes were acknowledged, yet only the one with the later timestamp is left: ", lost,
        " is gone, and nobody was told. Last-writer-wins trades this loss for never showing "
        "siblings; with skewed clocks, \"later\" is not even the later write"));
  }
  return n.Verdict();
}

}  // namespace quorumkv
