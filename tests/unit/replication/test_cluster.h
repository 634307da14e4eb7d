// A cluster of ReplicaNodes for unit tests: each node on its own FakeStore
// (its disk), with its own ManualClock, talking through a FakeNetwork the
// test drives by hand.
#ifndef QUORUMKV_TESTS_UNIT_REPLICATION_TEST_CLUSTER_H_
#define QUORUMKV_TESTS_UNIT_REPLICATION_TEST_CLUSTER_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "replication/cluster_config.h"
#include "replication/replica_node.h"
#include "tests/unit/replication/fake_network.h"
#include "tests/unit/replication/fake_store.h"
#include "tests/unit/replication/object_printers.h"

namespace quorumkv::test_support {

template <typename Response>
struct Outcome {
  bool done = false;
  absl::Status status;
  Response response;
};
using PutOutcome = Outcome<pb::PutResponse>;
using GetOutcome = Outcome<pb::GetResponse>;

inline pb::PutRequest PutRequest(const std::string& key, const std::string& value,
                                 const std::string& context = "", uint32_t w = 0) {
  pb::PutRequest request;
  request.set_key(key);
  request.set_value(value);
  request.set_context(context);
  request.set_w(w);
  return request;
}

inline pb::PutRequest DeleteRequest(const std::string& key, const std::string& context) {
  pb::PutRequest request = PutRequest(key, "", context);
  request.set_tombstone(true);
  return request;
}

// Live values, sorted, with each tombstone shown as "<deleted>".
inline std::vector<std::string> Values(const pb::GetResponse& response) {
  std::vector<std::string> values;
  for (const pb::Sibling& s : response.siblings()) {
    values.push_back(s.tombstone() ? "<deleted>" : s.value());
  }
  std::sort(values.begin(), values.end());
  return values;
}

class TestCluster {
 public:
  // Nodes n1..n<count>; `extra_config` is appended to the cluster textproto.
  // With `meet_peers` the nodes meet their peers first (MeetPeers).
  explicit TestCluster(int count, const std::string& extra_config = "", bool meet_peers = true) {
    std::string text;
    for (int i = 1; i <= count; ++i) {
      absl::StrAppend(&text, "nodes { id: \"n", i, "\" address: \"n", i, ":1\" } ");
    }
    absl::StatusOr<pb::ClusterConfig> config = ParseClusterConfig(text + extra_config);
    EXPECT_TRUE(config.ok()) << config.status();
    for (int i = 1; i <= count; ++i) Add(absl::StrCat("n", i), *config);
    if (meet_peers) MeetPeers();
  }

  // Every node pings every peer once and hears back, as at the start of a
  // cluster: nodes that started on an empty directory learn they are new
  // (replication/empty_start.h). Then the clocks move one ping interval on,
  // so that the next Tick pings again.
  void MeetPeers() {
    for (auto& [id, n] : nodes_) n.node->Tick();
    net_.Deliver([](const FakeNetwork::Call& c) { return c.kind == "ping"; });
    for (auto& [id, n] : nodes_) {
      n.clock.Advance(absl::Milliseconds(n.node->config().ping_interval_ms()));
    }
  }

  ReplicaNode& node(const std::string& id) { return *nodes_.at(id).node; }
  // The node's disk: SetWriteError makes its writes fail, as a full disk.
  FakeStore& store(const std::string& id) { return *nodes_.at(id).store; }
  ManualClock& clock(const std::string& id) { return nodes_.at(id).clock; }
  FakeNetwork& net() { return net_; }
  std::vector<std::string> ids() const {
    std::vector<std::string> ids;
    for (const auto& [id, node] : nodes_) ids.push_back(id);
    return ids;
  }

  // Stops node `id` (a crash of its process) and starts it again, on a
  // new, empty disk if `wipe` (the new directory gets actor epoch `epoch`).
  // REQUIRES: no call to or from the node is in flight (DeliverAll first).
  void Restart(const std::string& id, bool wipe, uint32_t epoch = 2) {
    Node& n = nodes_.at(id);
    const pb::ClusterConfig config = n.node->config();
    n.node.reset();
    if (wipe) n.store = std::make_unique<FakeStore>(id, epoch);
    Open(id, config);
  }

  // What `id` stores for `key` (nullopt if nothing).
  std::optional<Object> Stored(const std::string& id, const std::string& key) {
    absl::StatusOr<std::optional<Object>> object = store(id).Read(key);
    EXPECT_TRUE(object.ok()) << object.status();
    return object.ok() ? *object : std::nullopt;
  }

  std::shared_ptr<PutOutcome> StartPut(const std::string& at, const pb::PutRequest& request) {
    auto out = std::make_shared<PutOutcome>();
    node(at).Put(request, Deadline(at), [out](absl::Status status, pb::PutResponse response) {
      EXPECT_FALSE(out->done) << "done ran twice";
      *out = PutOutcome{true, std::move(status), std::move(response)};
    });
    return out;
  }
  std::shared_ptr<GetOutcome> StartGet(const std::string& at, const std::string& key,
                                       uint32_t r = 0) {
    pb::GetRequest request;
    request.set_key(key);
    request.set_r(r);
    auto out = std::make_shared<GetOutcome>();
    node(at).Get(request, Deadline(at), [out](absl::Status status, pb::GetResponse response) {
      EXPECT_FALSE(out->done) << "done ran twice";
      *out = GetOutcome{true, std::move(status), std::move(response)};
    });
    return out;
  }

  // Runs a request and delivers every message it causes.
  PutOutcome Put(const std::string& at, const pb::PutRequest& request) {
    std::shared_ptr<PutOutcome> out = StartPut(at, request);
    net_.DeliverAll();
    EXPECT_TRUE(out->done);
    return *out;
  }
  GetOutcome Get(const std::string& at, const std::string& key, uint32_t r = 0) {
    std::shared_ptr<GetOutcome> out = StartGet(at, key, r);
    net_.DeliverAll();
    EXPECT_TRUE(out->done);
    return *out;
  }

 private:
  struct Node {
    ManualClock clock;
    std::unique_ptr<FakeStore> store;
    std::unique_ptr<ReplicaNode> node;
  };

  void Add(const std::string& id, const pb::ClusterConfig& config) {
    nodes_[id].store = std::make_unique<FakeStore>(id, 1);
    Open(id, config);
  }

  // Starts node `id` on the disk it has.
  void Open(const std::string& id, const pb::ClusterConfig& config) {
    Node& n = nodes_.at(id);
    absl::StatusOr<std::unique_ptr<ReplicaNode>> node =
        ReplicaNode::Create(ReplicaNodeOptions{.self = id, .config = config}, n.store.get(),
                            n.store->hints(), net_.TransportFor(id), &n.clock);
    ASSERT_TRUE(node.ok()) << node.status();
    n.node = *std::move(node);
    net_.Register(id, n.node.get());
  }

  absl::Time Deadline(const std::string& at) { return clock(at).Now() + absl::Seconds(10); }

  FakeNetwork net_;  // outlives the nodes, whose callbacks it may hold
  std::map<std::string, Node> nodes_;
};

// Anti-entropy in a TestCluster (anti_entropy_test.cc, freshness_test.cc).
// A config that runs rounds only when asked, at a rate no test waits on.
inline constexpr char kAskedRoundsOnly[] =
    "anti_entropy_interval_ms: 0 anti_entropy_keys_per_second: 100000";

inline Object WrittenAs(const std::string& actor, uint64_t counter, const std::string& value) {
  Object object;
  object.context.Add(Dot{actor, counter});
  object.siblings.push_back(Sibling{.dot = Dot{actor, counter}, .hlc = counter, .value = value});
  return object;
}

// Merges `object` into `id`'s replica of `key` as a replica write would.
inline void StoreAt(TestCluster& c, const std::string& id, const std::string& key,
                    const Object& object) {
  pb::ReplicaWriteRequest write;
  write.set_key(key);
  write.set_from("test");
  ToProto(object, write.mutable_object());
  ASSERT_TRUE(c.node(id).HandleWrite(write).ok());
}

// Ticks every node (pings, so the detectors see the peers up, and
// anti-entropy) and delivers what it sends, until `id`'s round `round`
// ends (bounded). Nodes in `paused` do not tick (no pings, no handoff) but
// answer what they are sent.
inline void RunAntiEntropyRound(TestCluster& c, const std::string& id, uint64_t round,
                                const std::set<std::string>& paused = {}) {
  for (int i = 0; i < 10'000 && c.node(id).anti_entropy().stats().rounds_finished < round; ++i) {
    for (const std::string& n : c.ids()) {
      c.clock(n).Advance(absl::Milliseconds(10));
      if (paused.count(n) > 0) continue;
      c.node(n).Tick();
      c.node(n).AntiEntropyTick();
    }
    c.net().DeliverAll();
  }
  ASSERT_GE(c.node(id).anti_entropy().stats().rounds_finished, round) << "the round never ended";
}

}  // namespace quorumkv::test_support

#endif  // QUORUMKV_TESTS_UNIT_REPLICATION_TEST_CLUSTER_H_
