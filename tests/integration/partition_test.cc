// Faults driven as a user would: kvharness partition / drop / reset /
// delay (through the link proxies), disk-full and skew (inside a node),
// heal; kvctl calls through them, and what kvharness status says.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/match.h"
#include "tests/integration/cluster_fixture.h"

namespace quorumkv::testing {
namespace {

using ::testing::SizeIs;

// kvctl's exit codes (SPEC §8).
constexpr int kUnavailable = 4;
constexpr int kOutcomeUnknown = 5;

class PartitionTest : public ClusterTest {
 protected:
  void SetUp() override { StartCluster(3, 3); }

  // A strict put of `key` coordinated by `node`; kvctl's exit code.
  int StrictPut(const std::string& node, const std::string& key, const std::string& timeout_ms) {
    return KvctlVia(node, {"put", key, "v", "--strict", "--timeout-ms", timeout_ms}).exit_code;
  }
};

TEST_F(PartitionTest, AMinorityRefusesStrictWritesTheMajorityTakesThemAndHealEndsIt) {
  CommandResult cut = Harness({"partition", "n1", "/", "n2,n3"});
  ASSERT_EQ(cut.exit_code, 0) << cut.err;
  // n1 alone cannot reach W=2 home replicas. Before its failure detector
  // calls n2 and n3 down, its writes to them vanish and the outcome is
  // unknown; after, it refuses up front.
  const int first = StrictPut("n1", "k1", "1000");
  EXPECT_TRUE(first == kUnavailable || first == kOutcomeUnknown) << first;
  EXPECT_TRUE(
      WaitFor(absl::Seconds(20), [&] { return StrictPut("n1", "k2", "1000") == kUnavailable; }));
  EXPECT_EQ(StrictPut("n2", "k3", "5000"), 0) << "the majority side takes strict writes";
  ASSERT_EQ(Harness({"heal"}).exit_code, 0);
  EXPECT_TRUE(WaitFor(absl::Seconds(30), [&] { return StrictPut("n1", "k4", "2000") == 0; }));
}

TEST_F(PartitionTest, AClientCutFromItsNodeReachesTheOthers) {
  ASSERT_EQ(Harness({"reset", "client->n1"}).exit_code, 0);
  CommandResult refused = KvctlVia("n1", {"put", "k", "v", "--timeout-ms", "2000"});
  EXPECT_NE(refused.exit_code, 0) << refused.out;
  EXPECT_EQ(KvctlVia("n2", {"put", "k", "v"}).exit_code, 0) << "n2's client link is untouched";
  ASSERT_EQ(Harness({"heal"}).exit_code, 0);
  EXPECT_TRUE(WaitFor(absl::Seconds(10), [&] {
    return KvctlVia("n1", {"get", "k", "--timeout-ms", "2000"}).exit_code == 0;
  }));
}

// kvctl status asks every node: with n3 cut off, n2 sees n1 up and n3 sees
// it down, and status says so; after the heal they agree again.
TEST_F(PartitionTest, KvctlStatusShowsEveryNodesViewAndFlagsDisagreement) {
  ASSERT_EQ(Harness({"isolate", "n3"}).exit_code, 0);
  auto disagreements = [&] { return KvctlJson({"status"})["disagreements"]; };
  ASSERT_TRUE(WaitFor(absl::Seconds(30), [&] {
    for (const nlohmann::json& d : disagreements()) {
      if (d["node"] == "n1" && d["states"]["n2"] == "up" && d["states"]["n3"] == "down") {
        return true;
      }
    }
    return false;
  })) << KvctlJson({"status"}).dump();
  const nlohmann::json status = KvctlJson({"status"});
  EXPECT_EQ(status["views"].size(), 3u) << status.dump();
  CommandResult text = Kvctl({"status"});
  EXPECT_NE(text.out.find("disagreement: n1 is"), std::string::npos) << text.out;
  ASSERT_EQ(Harness({"heal"}).exit_code, 0);
  EXPECT_TRUE(WaitFor(absl::Seconds(30), [&] { return disagreements().empty(); }))
      << KvctlJson({"status"}).dump();
}

TEST_F(PartitionTest, StatusShowsEveryActiveFaultUntilHeal) {
  ASSERT_EQ(Harness({"drop", "n1->n2"}).exit_code, 0);
  ASSERT_EQ(Harness({"delay", "client->n3", "50", "--jitter", "10"}).exit_code, 0);
  ASSERT_EQ(Harness({"reset", "n2->n3"}).exit_code, 0);
  CommandResult status = Harness({"status"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_TRUE(absl::StrContains(status.out, "n1->n2")) << status.out;
  EXPECT_TRUE(absl::StrContains(status.out, "drop")) << status.out;
  EXPECT_TRUE(absl::StrContains(status.out, "client->n3")) << status.out;
  EXPECT_TRUE(absl::StrContains(status.out, "delay 50ms + up to 10ms")) << status.out;
  EXPECT_TRUE(absl::StrContains(status.out, "n2->n3")) << status.out;
  ASSERT_EQ(Harness({"heal"}).exit_code, 0);
  status = Harness({"status"});
  EXPECT_TRUE(absl::StrContains(status.out, "no link faults")) << status.out;
}

TEST_F(PartitionTest, BadLinkCommandsNameTheProblemAndChangeNothing) {
  CommandResult unknown = Harness({"drop", "n1->n9"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(unknown.err, "no node n9")) << unknown.err;
  CommandResult malformed = Harness({"drop", "n1n2"});
  EXPECT_EQ(malformed.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(malformed.err, "is not SRC->DST")) << malformed.err;
  CommandResult overlapping = Harness({"partition", "n1,n2", "/", "n2"});
  EXPECT_EQ(overlapping.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(Harness({"status"}).out, "no link faults"));
}

TEST_F(PartitionTest, ADiskFullNodeRefusesWritesClearlyAndStillServesReads) {
  ASSERT_EQ(KvctlVia("n1", {"put", "k", "before"}).exit_code, 0);
  CommandResult full = Harness({"disk-full", "n1", "on"});
  ASSERT_EQ(full.exit_code, 0) << full.err;
  EXPECT_TRUE(absl::StrContains(full.out, "disk full")) << full.out;
  // W=3: n1's own write is needed, and fails.
  CommandResult refused = KvctlVia("n1", {"put", "k2", "v", "--w", "3"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(refused.err, "disk full")) << refused.err;
  CommandResult read = KvctlVia("n1", {"get", "k"});
  EXPECT_EQ(read.exit_code, 0) << read.err;
  EXPECT_TRUE(absl::StrContains(read.out, "before")) << read.out;
  for (int i = 0; i < 5; ++i)
    EXPECT_NE(KvctlVia("n1", {"put", "k2", "v", "--w", "3"}).exit_code, 0);
  ASSERT_EQ(Harness({"disk-full", "n1", "off"}).exit_code, 0);
  EXPECT_EQ(KvctlVia("n1", {"put", "k2", "v", "--w", "3"}).exit_code, 0);
  // The node's log tells of it once, at its start, and once at its end.
  EXPECT_THAT(NodeLogLines("n1", {"level=error node=n1 event=disk_full episode=begin op=write"}),
              SizeIs(1))
      << NodeLog("n1");
  EXPECT_THAT(NodeLogLines("n1", {"event=disk_full episode=end occurrences="}), SizeIs(1))
      << NodeLog("n1");
}

TEST_F(PartitionTest, ASkewedClockIsListedUntilHeal) {
  CommandResult skew = Harness({"skew", "n2", "-1500"});
  ASSERT_EQ(skew.exit_code, 0) << skew.err;
  EXPECT_TRUE(absl::StrContains(Harness({"status"}).out, "clock -1500 ms"));
  EXPECT_EQ(KvctlVia("n2", {"put", "k", "v"}).exit_code, 0) << "a node behind still writes";
  ASSERT_EQ(Harness({"heal"}).exit_code, 0);
  EXPECT_FALSE(absl::StrContains(Harness({"status"}).out, "clock"));
}

}  // namespace
}  // namespace quorumkv::testing
