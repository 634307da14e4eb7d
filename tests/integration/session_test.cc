// Client sessions against a real cluster (docs/consistency.md): with
// replication from the writer cut (harness proxies), a session's read
// through another node escalates until it sees the session's write, or
// exits 6 — never returns the old value; a plain read there does.
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "tests/integration/cluster_fixture.h"
#include "tests/integration/command.h"

namespace quorumkv::testing {
namespace {

constexpr int kSessionNotSatisfiable = 6;

class SessionTest : public ClusterTest {
 protected:
  void SetUp() override {
    StartCluster(3, 3);
    session_ = dir_ + "/session";
    // "old" everywhere; then n1 cannot send to n2 or n3.
    ASSERT_EQ(Kvctl({"put", "k", "old", "--w", "3"}).exit_code, 0);
    ASSERT_EQ(Harness({"drop", "n1->n2"}).exit_code, 0);
    ASSERT_EQ(Harness({"drop", "n1->n3"}).exit_code, 0);
  }

  // kvctl with `endpoints` (node names) as --cluster, in that order.
  CommandResult KvctlThrough(const std::vector<std::string>& nodes, std::vector<std::string> args) {
    std::vector<std::string> endpoints;
    for (const std::string& node : nodes) {
      endpoints.push_back(node_endpoints_.at(std::stoi(node.substr(1)) - 1));
    }
    args.insert(args.begin(), {BinDir() + "/kvctl", "--cluster", absl::StrJoin(endpoints, ",")});
    return RunCommand(args);
  }

  // A W=1 put of "new" through n1 in the session, over the old value.
  void WriteNewThroughN1() {
    nlohmann::json old =
        nlohmann::json::parse(KvctlVia("n1", {"get", "k", "--r", "1", "--json"}).out);
    CommandResult put = KvctlVia("n1", {"--session", session_, "put", "k", "new", "--w", "1",
                                        "--context", old["context"].get<std::string>()});
    ASSERT_EQ(put.exit_code, 0) << put.err;
    // Without the session, a read of one replica through n2 misses it.
    CommandResult plain = KvctlVia("n2", {"get", "k", "--r", "1"});
    ASSERT_EQ(plain.exit_code, 0) << plain.err;
    ASSERT_TRUE(absl::StrContains(plain.out, "value: old")) << plain.out;
  }

  std::string session_;
};

TEST_F(SessionTest, AReadThroughANodeMissingTheWriteEscalatesToTheWriter) {
  WriteNewThroughN1();
  CommandResult read = KvctlThrough({"n2", "n1", "n3"}, {"--session", session_, "get", "k", "--r",
                                                         "1", "--timeout-ms", "10000", "--json"});
  ASSERT_EQ(read.exit_code, 0) << read.err;
  nlohmann::json got = nlohmann::json::parse(read.out);
  ASSERT_EQ(got["siblings"].size(), 1u) << read.out;
  EXPECT_EQ(got["siblings"][0]["value"], "new");
  EXPECT_GT(got["session"]["attempts"].get<int>(), 1) << read.out;
  EXPECT_TRUE(absl::StrContains(got["session"]["escalations"][0].get<std::string>(),
                                "lacks the session's own write"))
      << read.out;
}

TEST_F(SessionTest, WhenNoReachableReplicaHasTheWriteTheReadExitsSixNeverOld) {
  WriteNewThroughN1();
  // Only n2 reachable by this client, and n2 cannot hear from n1.
  CommandResult read =
      KvctlVia("n2", {"--session", session_, "get", "k", "--r", "1", "--timeout-ms", "10000"});
  EXPECT_EQ(read.exit_code, kSessionNotSatisfiable) << read.out << read.err;
  EXPECT_TRUE(absl::StrContains(read.err, "read-your-writes not satisfiable")) << read.err;
  EXPECT_FALSE(absl::StrContains(read.out, "old")) << read.out;
  // Once the link heals, the same session reads its write there.
  ASSERT_EQ(Harness({"heal"}).exit_code, 0);
  EXPECT_TRUE(WaitFor(absl::Seconds(30), [&] {
    CommandResult again =
        KvctlVia("n2", {"--session", session_, "get", "k", "--timeout-ms", "3000"});
    return again.exit_code == 0 && absl::StrContains(again.out, "value: new");
  }));
}

TEST_F(SessionTest, ASessionNeverReadsOlderThanItAlreadyRead) {
  WriteNewThroughN1();
  // Another session reads "new" through n1, then asks n2, which lacks it.
  const std::string reader = dir_ + "/reader";
  CommandResult first = KvctlVia("n1", {"--session", reader, "get", "k", "--r", "1"});
  ASSERT_TRUE(absl::StrContains(first.out, "value: new")) << first.out;
  CommandResult second =
      KvctlVia("n2", {"--session", reader, "get", "k", "--r", "1", "--timeout-ms", "10000"});
  EXPECT_EQ(second.exit_code, kSessionNotSatisfiable) << second.out;
  EXPECT_TRUE(absl::StrContains(second.err, "monotonic reads not satisfiable")) << second.err;
}

TEST_F(SessionTest, BoundedStalenessHoldsWithAllHomesAndIsRefusedOrFlaggedWithout) {
  ASSERT_EQ(Harness({"heal"}).exit_code, 0);
  // R=1 of N=3 proves nothing; the read escalates to R=3: strict overlap, bound 0.
  nlohmann::json fresh = nlohmann::json::parse(
      Kvctl({"--session", session_, "get", "k", "--r", "1", "--max-staleness-ms", "0", "--json"})
          .out);
  EXPECT_EQ(fresh["staleness_bound_ms"], 0) << fresh.dump();
  EXPECT_EQ(fresh["stale"], false);
  // With n3 stopped no read proves 100 ms: strict overlap needs n3, and no
  // anti-entropy round can complete its survey to set a watermark.
  ASSERT_EQ(Harness({"kill", "n3"}).exit_code, 0);
  CommandResult refused =
      KvctlThrough({"n1", "n2"}, {"--session", session_, "get", "k", "--max-staleness-ms", "100"});
  EXPECT_EQ(refused.exit_code, kSessionNotSatisfiable) << refused.out << refused.err;
  EXPECT_TRUE(absl::StrContains(refused.err, "bounded staleness not satisfiable")) << refused.err;
  CommandResult flagged = KvctlThrough(
      {"n1", "n2"},
      {"--session", session_, "get", "k", "--max-staleness-ms", "100", "--allow-stale", "--json"});
  ASSERT_EQ(flagged.exit_code, 0) << flagged.err;
  EXPECT_EQ(nlohmann::json::parse(flagged.out)["stale"], true) << flagged.out;
}

// After an anti-entropy round on n1, n1's replica alone proves a bound:
// the age of its freshness watermark.
TEST_F(SessionTest, AnAntiEntropyRoundLetsOneReplicaProveABound) {
  ASSERT_EQ(Harness({"heal"}).exit_code, 0);
  CommandResult repair = KvctlVia("n1", {"repair", "--node", "n1"});
  ASSERT_EQ(repair.exit_code, 0) << repair.out << repair.err;
  CommandResult got = KvctlVia("n1", {"--session", session_, "get", "k", "--r", "1",
                                      "--max-staleness-ms", "60000", "--json"});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  const nlohmann::json j = nlohmann::json::parse(got.out);
  ASSERT_TRUE(j["staleness_bound_ms"].is_number()) << got.out;
  EXPECT_GT(j["staleness_bound_ms"].get<int64_t>(), 0) << got.out;
  EXPECT_LT(j["staleness_bound_ms"].get<int64_t>(), 60'000) << got.out;
  EXPECT_EQ(j["session"]["attempts"], 1) << "n1 alone proved it: " << got.out;
}

}  // namespace
}  // namespace quorumkv::testing
