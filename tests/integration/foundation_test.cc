// The behaviours a 3-node cluster (N=3) must show, end to end through
// kvharness and kvctl.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/cluster_fixture.h"

namespace quorumkv::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

class FoundationTest : public ClusterTest {
 protected:
  void SetUp() override { StartCluster(3, 3); }
};

TEST_F(FoundationTest, PutW2ThenKillOneNodeGetR2StillFindsIt) {
  ASSERT_EQ(Kvctl({"put", "k", "v1", "--w", "2"}).exit_code, 0);
  ASSERT_EQ(Harness({"kill", "n3"}).exit_code, 0);
  nlohmann::json got = KvctlJson({"get", "k", "--r", "2"});
  EXPECT_TRUE(got["found"].get<bool>());
  EXPECT_THAT(LiveValues(got), ElementsAre("v1"));
}

TEST_F(FoundationTest, KillTwoNodesPutW2FailsUnavailableNamingTheQuorum) {
  ASSERT_EQ(Harness({"kill", "n2"}).exit_code, 0);
  ASSERT_EQ(Harness({"kill", "n3"}).exit_code, 0);
  CommandResult put = Kvctl({"put", "k", "v1", "--w", "2"});
  EXPECT_EQ(put.exit_code, 4) << put.err;
  EXPECT_THAT(put.err, HasSubstr("quorum not met: got 1 of W=2 acks"));
  EXPECT_THAT(put.err, HasSubstr("partially applied"));
}

TEST_F(FoundationTest, APutRetriedWithItsIdempotencyKeyThroughAnotherNodeMakesNoSecondSibling) {
  for (const char* node : {"n1", "n2"}) {
    CommandResult put = KvctlVia(node, {"put", "k", "v1", "--idempotency-key", "order-17"});
    ASSERT_EQ(put.exit_code, 0) << put.err;
  }
  nlohmann::json got = KvctlJson({"get", "k", "--r", "3"});
  ASSERT_EQ(got["siblings"].size(), 1u) << got.dump();
  EXPECT_EQ(got["siblings"][0]["idempotency_key"], "order-17");
  EXPECT_EQ(got["conflict"], false);
  // The same two puts without a shared key are two writes, both kept.
  for (const char* node : {"n1", "n2"}) ASSERT_EQ(KvctlVia(node, {"put", "j", "v1"}).exit_code, 0);
  EXPECT_EQ(KvctlJson({"get", "j", "--r", "3"})["siblings"].size(), 2u);
  CommandResult too_long = Kvctl({"put", "k", "v", "--idempotency-key", std::string(65, 'i')});
  EXPECT_EQ(too_long.exit_code, 2) << too_long.err;
}

TEST_F(FoundationTest, TwoPutsWithTheSameContextShowConflictWithBothValues) {
  ASSERT_EQ(Kvctl({"put", "k", "v0"}).exit_code, 0);
  const std::string context = KvctlJson({"get", "k"})["context"];
  ASSERT_EQ(KvctlVia("n1", {"put", "k", "alice", "--context", context}).exit_code, 0);
  ASSERT_EQ(KvctlVia("n2", {"put", "k", "bob", "--context", context}).exit_code, 0);
  nlohmann::json got = KvctlJson({"get", "k"});
  EXPECT_TRUE(got["conflict"].get<bool>());
  EXPECT_THAT(LiveValues(got), UnorderedElementsAre("alice", "bob"));
  for (const auto& s : got["siblings"]) {
    EXPECT_TRUE(s.contains("dot") && s.contains("hlc")) << s.dump();
  }
}

TEST_F(FoundationTest, BlindPutOnAnExistingKeyKeepsTheOldValueAsASibling) {
  ASSERT_EQ(Kvctl({"put", "k", "old"}).exit_code, 0);
  CommandResult blind = Kvctl({"put", "k", "new"});
  ASSERT_EQ(blind.exit_code, 0);
  EXPECT_THAT(blind.out, HasSubstr("blind write (no --context): kept beside any value"));
  nlohmann::json got = KvctlJson({"get", "k"});
  EXPECT_TRUE(got["conflict"].get<bool>());
  EXPECT_THAT(LiveValues(got), UnorderedElementsAre("old", "new"));
}

TEST_F(FoundationTest, PutWithTheMergedContextResolvesToOneValue) {
  ASSERT_EQ(Kvctl({"put", "k", "a"}).exit_code, 0);
  ASSERT_EQ(Kvctl({"put", "k", "b"}).exit_code, 0);
  const std::string context = KvctlJson({"get", "k"})["context"];
  ASSERT_EQ(Kvctl({"put", "k", "a+b", "--context", context}).exit_code, 0);
  nlohmann::json got = KvctlJson({"get", "k", "--r", "3"});
  EXPECT_FALSE(got["conflict"].get<bool>());
  EXPECT_THAT(LiveValues(got), ElementsAre("a+b"));
}

TEST_F(FoundationTest, ValueAckedWithW3SurvivesKill9OfEveryNodeAndRestart) {
  ASSERT_EQ(Kvctl({"put", "durable", "acked", "--w", "3"}).exit_code, 0);
  for (const char* node : {"n1", "n2", "n3"}) ASSERT_EQ(Harness({"kill", node}).exit_code, 0);
  for (const char* node : {"n1", "n2", "n3"}) ASSERT_EQ(Harness({"restart", node}).exit_code, 0);
  // R=1 through each node alone: every replica kept it.
  for (const char* node : {"n1", "n2", "n3"}) {
    CommandResult get = KvctlVia(node, {"get", "durable", "--r", "1", "--json"});
    ASSERT_EQ(get.exit_code, 0) << get.err;
    EXPECT_THAT(get.out, HasSubstr("\"value\":\"acked\""));
  }
}

TEST_F(FoundationTest, KeyOverTheLimitIsRefusedAndNothingIsWritten) {
  const std::string long_key(1025, 'k');
  CommandResult put = Kvctl({"put", long_key, "v"});
  EXPECT_EQ(put.exit_code, 2);
  EXPECT_THAT(put.err, HasSubstr("max_key_bytes=1024"));
  CommandResult get = Kvctl({"get", long_key});
  EXPECT_EQ(get.exit_code, 2);
}

// A directory reads as no bytes: it must not become an empty value.
TEST_F(FoundationTest, AValueFileThatIsADirectoryIsRefusedAndNothingIsWritten) {
  CommandResult put = Kvctl({"put", "from-dir", "--value-file", dir_});
  EXPECT_EQ(put.exit_code, 2) << put.out;
  EXPECT_THAT(put.err, HasSubstr("is a directory"));
  EXPECT_EQ(Kvctl({"get", "from-dir"}).exit_code, 3);
}

// `--context ''` (an unset shell variable) would be a blind write, or a
// delete of what a read shows: refused, naming what to do instead.
TEST_F(FoundationTest, AnEmptyContextIsRefusedAndNothingIsWritten) {
  CommandResult put = Kvctl({"put", "empty-ctx", "v", "--context", ""});
  EXPECT_EQ(put.exit_code, 2) << put.out;
  EXPECT_THAT(put.err, HasSubstr("empty context; omit --context for a blind write"));
  EXPECT_EQ(Kvctl({"get", "empty-ctx"}).exit_code, 3);
  ASSERT_EQ(Kvctl({"put", "empty-ctx", "v"}).exit_code, 0);
  CommandResult del = Kvctl({"delete", "empty-ctx", "--context", ""});
  EXPECT_EQ(del.exit_code, 2) << del.out;
  EXPECT_THAT(del.err, HasSubstr("empty context"));
  EXPECT_EQ(Kvctl({"get", "empty-ctx"}).exit_code, 0) << "the delete wrote nothing";
}

TEST_F(FoundationTest, MissingKeyExits3AndDeleteLeavesATombstone) {
  EXPECT_EQ(Kvctl({"get", "nothing-here"}).exit_code, 3);
  ASSERT_EQ(Kvctl({"put", "k", "v"}).exit_code, 0);
  ASSERT_EQ(Kvctl({"delete", "k"}).exit_code, 0);
  CommandResult get = Kvctl({"get", "k", "--json"});
  EXPECT_EQ(get.exit_code, 3);
  nlohmann::json got = nlohmann::json::parse(get.out);
  EXPECT_FALSE(got["found"].get<bool>());
  ASSERT_EQ(got["siblings"].size(), 1u);
  EXPECT_TRUE(got["siblings"][0]["tombstone"].get<bool>());
}

TEST_F(FoundationTest, WhereAndStatusPrintTheFixedJsonFields) {
  nlohmann::json where = KvctlJson({"where", "k"});
  EXPECT_EQ(where["home"].size(), 3u);
  EXPECT_TRUE(where["fallbacks"].empty());
  nlohmann::json status = KvctlJson({"status"});
  ASSERT_EQ(status["nodes"].size(), 3u);
  for (const auto& n : status["nodes"]) {
    EXPECT_EQ(n["state"], "up");
    EXPECT_TRUE(n.contains("address") && n.contains("hints_pending") &&
                n.contains("oldest_hint_age_ms"));
  }
  ASSERT_EQ(Harness({"kill", "n2"}).exit_code, 0);
  status = KvctlJson({"status"});
  for (const auto& n : status["nodes"]) EXPECT_EQ(n["state"], n["id"] == "n2" ? "down" : "up");
}

TEST_F(FoundationTest, SiblingsDemoPasses) {
  CommandResult demo = Harness({"demo", "siblings"});
  EXPECT_EQ(demo.exit_code, 0) << demo.out << demo.err;
  EXPECT_THAT(demo.out, HasSubstr("verdict: the store behaved as expected"));
}

TEST_F(FoundationTest, LwwLossDemoPasses) {
  CommandResult demo = Harness({"demo", "lww-loss"});
  EXPECT_EQ(demo.exit_code, 0) << demo.out << demo.err;
  EXPECT_THAT(demo.out, HasSubstr("verdict: the store behaved as expected"));
}

TEST_F(FoundationTest, DemoListNamesEveryDemo) {
  CommandResult list = Harness({"demo", "--list"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  for (const char* name : {"siblings", "sloppy-quorum", "strict-vs-sloppy", "lww-loss",
                           "read-your-writes", "bounded-staleness"}) {
    EXPECT_THAT(list.out, HasSubstr(name));
  }
  EXPECT_THAT(list.out, Not(HasSubstr("not yet")));
}

// Over TLS like every fixture. The session demos time their escalation
// ladder, whose first ring queries to every node get 1 s each: they failed
// under the suite's load while a connection attempt was cut short after
// 100 ms (security/tls_credentials.h, ReconnectingChannelArguments).
class SessionDemoTest : public ClusterTest {
 protected:
  void SetUp() override { StartCluster(3, 3); }
};

TEST_F(SessionDemoTest, SessionDemosPass) {
  for (const char* demo : {"read-your-writes", "bounded-staleness"}) {
    CommandResult run = Harness({"demo", demo});
    EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
    EXPECT_THAT(run.out, HasSubstr("the store behaved as expected")) << demo;
  }
}

TEST_F(FoundationTest, ExampleAppMergesConcurrentCartUpdates) {
  CommandResult app = RunCommand({BinDir() + "/shopping_cart", "--cluster", endpoints_});
  EXPECT_EQ(app.exit_code, 0) << app.out << app.err;
  EXPECT_THAT(app.out, HasSubstr("cart: {book,lamp,pen}"));
}

class ForwardingTest : public ClusterTest {
 protected:
  void SetUp() override { StartCluster(4, 3); }
};

TEST_F(ForwardingTest, PutThroughANodeThatIsNotAHomeReplicaIsCoordinatedByOne) {
  // Find a key whose home replicas leave out n4.
  std::string key;
  for (int i = 0; i < 100 && key.empty(); ++i) {
    nlohmann::json where = KvctlJson({"where", "key" + std::to_string(i)});
    bool n4_home = false;
    for (const auto& h : where["home"]) n4_home |= h == "n4";
    if (!n4_home) key = "key" + std::to_string(i);
  }
  ASSERT_FALSE(key.empty());
  CommandResult put = KvctlVia("n4", {"put", key, "v", "--json"});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  nlohmann::json reply = nlohmann::json::parse(put.out);
  EXPECT_NE(reply["quorum"]["coordinator"], "n4");
  EXPECT_THAT(LiveValues(KvctlJson({"get", key})), ElementsAre("v"));
}

}  // namespace
}  // namespace quorumkv::testing
