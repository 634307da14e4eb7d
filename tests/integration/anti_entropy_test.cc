// Anti-entropy between real kvnode processes (kvharness, kvctl repair): a
// replica that was down while writes happened catches up without any read
// touching the keys.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "client/kv_client.h"
#include "tests/integration/cluster_fixture.h"

namespace quorumkv::testing {
namespace {

using ::testing::HasSubstr;

constexpr int kKeys = 1000;

class AntiEntropyRepairTest : public ClusterTest {
 protected:
  // No periodic round (only kvctl repair's), and hinted handoff slowed to a
  // byte a second: what n3 gets, anti-entropy gives it.
  void SetUp() override {
    StartCluster(3, 3,
                 "anti_entropy_interval_ms: 0 anti_entropy_keys_per_second: 1000 "
                 "handoff_bytes_per_second: 1");
  }
};

TEST_F(AntiEntropyRepairTest, AReplicaThatWasDownHasEveryKeyAfterRepairAndAloneServesThem) {
  ASSERT_EQ(Harness({"kill", "n3"}).exit_code, 0);
  {
    absl::StatusOr<std::unique_ptr<KvClient>> client =
        KvClient::Connect({.endpoints = {node_endpoints_[0], node_endpoints_[1]},
                           .timeout = absl::Seconds(10),
                           .tls = TlsOf()});
    ASSERT_TRUE(client.ok()) << client.status();
    for (int i = 0; i < kKeys; ++i) {
      absl::StatusOr<v1::PutResponse> put =
          (*client)->Put(absl::StrCat("key", i), absl::StrCat("value", i), {.w = 2, .blind = true});
      ASSERT_TRUE(put.ok()) << i << ": " << put.status();
    }
  }
  ASSERT_EQ(Harness({"restart", "n3"}).exit_code, 0);

  CommandResult repair = Kvctl({"repair", "--node", "n3", "--json"});
  ASSERT_EQ(repair.exit_code, 0) << repair.out << repair.err;
  nlohmann::json summary = nlohmann::json::parse(repair.out);
  EXPECT_TRUE(summary["complete"].get<bool>());
  const nlohmann::json& n3 = summary["nodes"][0];
  EXPECT_EQ(n3["node"], "n3");
  // The keys n3 lacked, each with the first peer compared (the second then
  // agrees): most of them. Not every one: a replica write still within its
  // deadline when n3 came back reaches it (the transport waits for a
  // reconnecting peer).
  EXPECT_GT(n3["keys_differing"].get<int>(), 0) << n3.dump();
  EXPECT_LE(n3["keys_differing"].get<int>(), kKeys) << n3.dump();
  EXPECT_EQ(n3["keys_repaired"], n3["keys_differing"]) << n3.dump();
  EXPECT_THAT(repair.err, HasSubstr("partitions compared"));

  ASSERT_EQ(Harness({"kill", "n1"}).exit_code, 0);
  ASSERT_EQ(Harness({"kill", "n2"}).exit_code, 0);
  absl::StatusOr<std::unique_ptr<KvClient>> alone = KvClient::Connect(
      {.endpoints = {node_endpoints_[2]}, .timeout = absl::Seconds(10), .tls = TlsOf()});
  ASSERT_TRUE(alone.ok()) << alone.status();
  int found = 0;
  for (int i = 0; i < kKeys; ++i) {
    absl::StatusOr<v1::GetResponse> got =
        (*alone)->Get(absl::StrCat("key", i), {.r = 1, .strict = true});
    ASSERT_TRUE(got.ok()) << i << ": " << got.status();
    if (got->found() && got->siblings_size() == 1 &&
        got->siblings(0).value() == absl::StrCat("value", i)) {
      ++found;
    }
  }
  EXPECT_EQ(found, kKeys);
}

TEST_F(AntiEntropyRepairTest, AgreeingReplicasRepairNothingAndStatusShowsTheRound) {
  ASSERT_EQ(Kvctl({"put", "k", "v", "--w", "3"}).exit_code, 0);
  CommandResult repair = Kvctl({"repair", "--json"});
  ASSERT_EQ(repair.exit_code, 0) << repair.out << repair.err;
  nlohmann::json summary = nlohmann::json::parse(repair.out);
  ASSERT_EQ(summary["nodes"].size(), 3u);
  for (const nlohmann::json& n : summary["nodes"]) {
    EXPECT_EQ(n["keys_differing"].get<int>(), 0) << n.dump();
    // One root hash per pair compared: the replicas agree.
    EXPECT_EQ(n["hashes_compared"], n["partitions_total"]) << n.dump();
  }
  nlohmann::json status = KvctlJson({"status"});
  for (const nlohmann::json& n : status["nodes"]) {
    EXPECT_FALSE(n["last_repair_round_age_ms"].is_null()) << n.dump();
  }
  CommandResult text = Kvctl({"status"});
  EXPECT_THAT(text.out, HasSubstr("s ago"));
}

TEST_F(AntiEntropyRepairTest, RepairWithANodeDownIsIncompleteAndSaysSo) {
  ASSERT_EQ(Harness({"kill", "n2"}).exit_code, 0);
  CommandResult repair = Kvctl({"repair", "--node", "n1"});
  EXPECT_EQ(repair.exit_code, 4) << repair.out << repair.err;
  EXPECT_THAT(repair.out, HasSubstr("INCOMPLETE"));
  EXPECT_THAT(repair.out, HasSubstr("n2"));
  EXPECT_THAT(repair.err, HasSubstr("run kvctl repair again"));
  CommandResult bad = Kvctl({"repair", "--node", "n9"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_THAT(bad.err, HasSubstr("n9 is not in the cluster (n1, n2, n3)"));
  CommandResult partition = Kvctl({"repair", "--partition", "100000"});
  EXPECT_EQ(partition.exit_code, 2) << partition.err;
  EXPECT_THAT(partition.err, HasSubstr("is not in the ring"));
}

// Tombstone purge: a grace of 3.5 s (it must exceed max_hint_age 1 s +
// replica_timeout 2 s), no read repair (a read must not write a purged
// tombstone back), rounds only when asked.
class TombstonePurgeTest : public ClusterTest {
 protected:
  void SetUp() override {
    StartCluster(3, 3,
                 "anti_entropy_interval_ms: 0 tombstone_grace_ms: 3500 max_hint_age_ms: 1000 "
                 "read_repair: READ_REPAIR_OFF");
  }

  // What a strict read of every replica returns of `key`: its siblings,
  // tombstones included (none once every replica purged it).
  nlohmann::json ReadAll(const std::string& key) {
    return KvctlJson({"get", key, "--r", "3", "--strict"});
  }
};

// n3 is down for the delete; anti-entropy brings it the tombstone; past
// the grace every replica purges it; then every node restarts, each first,
// second and last once, and the deleted value never shows again, nor does
// the tombstone.
TEST_F(TombstonePurgeTest, ADeleteAReplicaMissedIsPurgedEverywhereAndStaysDeleted) {
  ASSERT_EQ(Kvctl({"put", "gone", "deleted value", "--w", "3"}).exit_code, 0);
  ASSERT_EQ(Harness({"kill", "n3"}).exit_code, 0);
  CommandResult deleted = Kvctl({"delete", "gone", "--w", "2", "--strict"});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  ASSERT_EQ(Harness({"restart", "n3"}).exit_code, 0);
  // n3 holds the value it missed the delete of, unless the coordinator's
  // replica write, still within its deadline, reached it as it came back
  // (the transport waits for a reconnecting peer); repair covers both.

  CommandResult repair = Kvctl({"repair", "--node", "n3", "--json"});
  ASSERT_EQ(repair.exit_code, 0) << repair.out << repair.err;
  EXPECT_TRUE(LiveValues(ReadAll("gone")).empty());

  // Past the grace, rounds purge it: each node once, whatever the order.
  uint64_t purged = 0;
  std::string last;
  ASSERT_TRUE(WaitFor(absl::Seconds(60),
                      [&] {
                        CommandResult round = Kvctl({"repair", "--json"});
                        last = round.out + round.err;
                        const nlohmann::json summary =
                            nlohmann::json::parse(round.out, nullptr, false);
                        if (summary.is_discarded()) return false;
                        for (const nlohmann::json& n : summary["nodes"]) {
                          purged += n.value("tombstones_purged", uint64_t{0});
                        }
                        return ReadAll("gone")["siblings"].empty();
                      }))
      << "purged " << purged << "; the last round: " << last;
  EXPECT_EQ(purged, 3u) << last;

  // Three rotations: each node restarts first, second and last once, and
  // the reads between restarts see every set of restarted nodes ({n1},
  // {n1,n2}, {n2}, {n2,n3}, {n3}, {n3,n1}) that all six orders would.
  const std::vector<std::vector<std::string>> orders = {
      {"n1", "n2", "n3"}, {"n2", "n3", "n1"}, {"n3", "n1", "n2"}};
  for (const std::vector<std::string>& order : orders) {
    for (const std::string& node : order) {
      ASSERT_EQ(Harness({"restart", node}).exit_code, 0) << node;
      const nlohmann::json read = KvctlJson({"get", "gone", "--r", "2", "--strict"});
      EXPECT_TRUE(LiveValues(read).empty()) << "after restarting " << node << ": " << read.dump();
    }
    CommandResult round = Kvctl({"repair", "--json"});
    ASSERT_EQ(round.exit_code, 0) << round.out << round.err;
    const nlohmann::json read = ReadAll("gone");
    EXPECT_EQ(read["siblings"].size(), 0u)
        << "order " << order[0] << order[1] << order[2] << ": " << read.dump();
  }
}

}  // namespace
}  // namespace quorumkv::testing
