// The cluster configuration: defaults, validation, namespaces and links.
#include "replication/cluster_config.h"

#include <gmock/gmock.h>
#include <google/protobuf/stubs/logging.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace quorumkv {
namespace {

using ::testing::HasSubstr;

constexpr char kThreeNodes[] = R"pb(
  nodes { id: "n1" address: "127.0.0.1:7001" }
  nodes { id: "n2" address: "127.0.0.1:7002" }
  nodes { id: "n3" address: "127.0.0.1:7003" }
)pb";

absl::Status ParseError(const std::string& textproto) {
  return ParseClusterConfig(textproto).status();
}

void ExpectInvalid(const std::string& textproto, const std::string& message_part) {
  const absl::Status status = ParseError(textproto);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << textproto;
  EXPECT_THAT(std::string(status.message()), HasSubstr(message_part)) << textproto;
}

TEST(ClusterConfigTest, FillsDefaultsOfFieldsLeftAtZero) {
  const absl::StatusOr<pb::ClusterConfig> config = ParseClusterConfig(kThreeNodes);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->replication_factor(), 3u);
  EXPECT_EQ(config->default_r(), 2u);
  EXPECT_EQ(config->default_w(), 2u);
  EXPECT_EQ(config->vnodes_per_node(), 64u);
  EXPECT_EQ(config->max_key_bytes(), 1024u);
  EXPECT_EQ(config->max_value_bytes(), 1u << 20);
  EXPECT_EQ(config->max_object_bytes(), 64u << 20);
  EXPECT_TRUE(config->sync_writes());
  EXPECT_EQ(config->replica_timeout_ms(), 2000u);
  EXPECT_EQ(config->read_repair(), pb::READ_REPAIR_ASYNC);
  EXPECT_EQ(config->default_conflict(), pb::CONFLICT_SIBLINGS);
}

// SPEC §5: the grace must outlast every hint and replica write in flight.
TEST(ClusterConfigTest, TheTombstoneGraceMustExceedTheHintAgeAndReplicaTimeout) {
  EXPECT_EQ(ParseClusterConfig(kThreeNodes)->tombstone_grace_ms(), 10ull * 24 * 3600 * 1000);
  ExpectInvalid(absl::StrCat(kThreeNodes, "tombstone_grace_ms: 12000 max_hint_age_ms: 10000"),
                "tombstone_grace_ms 12000 must exceed max_hint_age_ms 10000 + "
                "replica_timeout_ms 2000");
  EXPECT_TRUE(
      ParseError(absl::StrCat(kThreeNodes, "tombstone_grace_ms: 12001 max_hint_age_ms: 10000"))
          .ok());
  EXPECT_EQ(
      ParseClusterConfig(absl::StrCat(kThreeNodes, "tombstone_grace_ms: 0"))->tombstone_grace_ms(),
      0u);  // never purge
  // Purge trusts synced merges: off by default without them, refused if set.
  EXPECT_EQ(
      ParseClusterConfig(absl::StrCat(kThreeNodes, "sync_writes: false"))->tombstone_grace_ms(),
      0u);
  ExpectInvalid(absl::StrCat(kThreeNodes, "sync_writes: false tombstone_grace_ms: 864000000"),
                "tombstone_grace_ms needs sync_writes: true");
}

TEST(ClusterConfigTest, KeepsExplicitValues) {
  const absl::StatusOr<pb::ClusterConfig> config =
      ParseClusterConfig(absl::StrCat(kThreeNodes,
                                      "replication_factor: 2 default_r: 1 default_w: 1 "
                                      "vnodes_per_node: 8 sync_writes: false"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->replication_factor(), 2u);
  EXPECT_EQ(config->default_r(), 1u);
  EXPECT_EQ(config->default_w(), 1u);
  EXPECT_EQ(config->vnodes_per_node(), 8u);
  EXPECT_FALSE(config->sync_writes());
}

TEST(ClusterConfigTest, RejectsTextThatIsNotAClusterConfig) {
  google::protobuf::LogSilencer quiet;  // the parser logs the error too
  EXPECT_EQ(ParseError("nodes { nope: 1 }").code(), absl::StatusCode::kInvalidArgument);
}

TEST(ClusterConfigTest, RejectsNoNodes) { ExpectInvalid("", "no nodes"); }

TEST(ClusterConfigTest, RejectsDuplicateNodeIds) {
  ExpectInvalid(R"pb(nodes { id: "n1" address: "a:1" }
                     nodes { id: "n1" address: "a:2" })pb",
                "node id n1 appears twice");
}

TEST(ClusterConfigTest, RejectsDuplicateAddresses) {
  ExpectInvalid(R"pb(nodes { id: "n1" address: "a:1" }
                     nodes { id: "n2" address: "a:1" })pb",
                "address a:1 appears twice");
}

std::string OneNode(const std::string& id) {
  return absl::StrCat("nodes { id: \"", id, "\" address: \"a:1\" } ",
                      "replication_factor: 1 default_r: 1 default_w: 1");
}

TEST(ClusterConfigTest, RejectsNodeIdsWithBadCharactersOrLength) {
  const std::vector<std::string> bad = {"", "n.1", "n 1", "n/1", "\xc3\xa9", std::string(33, 'x')};
  for (const std::string& id : bad) {
    ExpectInvalid(OneNode(id), "is not 1..32 of [A-Za-z0-9_-]");
  }
}

TEST(ClusterConfigTest, AcceptsNodeIdsOfLettersDigitsDashAndUnderscore) {
  for (const std::string& id : {std::string("Node_1-a"), std::string(32, 'z')}) {
    const absl::Status status = ParseClusterConfig(OneNode(id)).status();
    EXPECT_TRUE(status.ok()) << status;
  }
}

TEST(ClusterConfigTest, RejectsANodeWithoutAddress) {
  ExpectInvalid(R"pb(nodes { id: "n1" }
                     replication_factor: 1
                     default_r: 1
                     default_w: 1)pb",
                "node n1 has no address");
}

TEST(ClusterConfigTest, RejectsReplicationFactorAboveNodeCount) {
  ExpectInvalid(absl::StrCat(kThreeNodes, "replication_factor: 4"),
                "replication_factor N=4 exceeds the 3 nodes");
}

TEST(ClusterConfigTest, RejectsDefaultRAboveN) {
  ExpectInvalid(absl::StrCat(kThreeNodes, "default_r: 4"), "R=4 is not in 1..N=3");
}

TEST(ClusterConfigTest, RejectsDefaultWAboveN) {
  ExpectInvalid(absl::StrCat(kThreeNodes, "default_w: 4"), "W=4 is not in 1..N=3");
}

TEST(ClusterConfigTest, RejectsDefaultQuorumAboveASmallerN) {
  // The defaults R=W=2 do not fit N=1.
  ExpectInvalid(absl::StrCat(kThreeNodes, "replication_factor: 1"), "is not in 1..N=1");
}

TEST(ClusterConfigTest, AcceptsMaxValueBytesAtTheHardCap) {
  EXPECT_TRUE(
      ParseClusterConfig(absl::StrCat(kThreeNodes, "max_value_bytes: ", 16 << 20)).status().ok());
}

TEST(ClusterConfigTest, RejectsMaxValueBytesOverSixteenMebibytes) {
  ExpectInvalid(absl::StrCat(kThreeNodes, "max_value_bytes: ", (16 << 20) + 1),
                "max_value_bytes 16777217 exceeds the hard cap of 16777216");
}

TEST(ClusterConfigTest, RejectsMaxObjectBytesBelowMaxValueBytes) {
  ExpectInvalid(absl::StrCat(kThreeNodes, "max_value_bytes: 2000 max_object_bytes: 1000"),
                "max_object_bytes 1000");
}

TEST(ClusterConfigTest, RejectsTooManyVnodes) {
  ExpectInvalid(absl::StrCat(kThreeNodes, "vnodes_per_node: 4097"), "vnodes_per_node 4097");
}

TEST(ClusterConfigTest, RejectsLinksToOrFromUnknownNodes) {
  ExpectInvalid(absl::StrCat(kThreeNodes, R"pb(links { from: "n1" to: "n9" address: "p:1" })pb"),
                "link n1->n9 names an unknown node");
  ExpectInvalid(absl::StrCat(kThreeNodes, R"pb(links { from: "n9" to: "n1" address: "p:1" })pb"),
                "link n9->n1 names an unknown node");
}

TEST(ClusterConfigTest, RejectsALinkWithoutAddress) {
  ExpectInvalid(absl::StrCat(kThreeNodes, R"pb(links { from: "n1" to: "n2" })pb"), "link n1->n2");
}

TEST(NamespaceOfTest, IsThePrefixUpToTheFirstSlash) {
  EXPECT_EQ(NamespaceOf("users/42"), "users");
  EXPECT_EQ(NamespaceOf("a/b/c"), "a");
  EXPECT_EQ(NamespaceOf("/leading"), "");
  EXPECT_EQ(NamespaceOf("plain"), "");
  EXPECT_EQ(NamespaceOf(""), "");
}

TEST(ConflictPolicyForTest, UsesTheNamespacePolicyElseTheDefault) {
  const absl::StatusOr<pb::ClusterConfig> config = ParseClusterConfig(
      absl::StrCat(kThreeNodes, R"pb(namespaces { name: "lww" conflict: CONFLICT_LWW })pb"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(ConflictPolicyFor(*config, "lww/k"), pb::CONFLICT_LWW);
  EXPECT_EQ(ConflictPolicyFor(*config, "other/k"), pb::CONFLICT_SIBLINGS);
  EXPECT_EQ(ConflictPolicyFor(*config, "lww"), pb::CONFLICT_SIBLINGS);
  EXPECT_EQ(ConflictPolicyFor(*config, "lwwx/k"), pb::CONFLICT_SIBLINGS);
}

TEST(ConflictPolicyForTest, DefaultConflictAppliesToUnlistedNamespaces) {
  const absl::StatusOr<pb::ClusterConfig> config = ParseClusterConfig(
      absl::StrCat(kThreeNodes, R"pb(default_conflict: CONFLICT_LWW
                                     namespaces { name: "keep" conflict: CONFLICT_SIBLINGS })pb"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(ConflictPolicyFor(*config, "plain"), pb::CONFLICT_LWW);
  EXPECT_EQ(ConflictPolicyFor(*config, "keep/k"), pb::CONFLICT_SIBLINGS);
}

TEST(ClusterConfigTest, RejectsAMinWAboveN) {
  ExpectInvalid(absl::StrCat(kThreeNodes, "namespaces { name: \"a\" min_w: 4 }"),
                "min_w of namespace 'a'=4 is not in 1..N=3");
  ExpectInvalid(absl::StrCat(kThreeNodes, "default_min_w: 4"), "default_min_w=4");
}

TEST(MinWForTest, UsesTheNamespaceMinWElseTheDefaultElseOne) {
  const pb::ClusterConfig plain = ParseClusterConfig(kThreeNodes).value();
  EXPECT_EQ(MinWFor(plain, "k"), 1u);
  const pb::ClusterConfig config =
      ParseClusterConfig(absl::StrCat(kThreeNodes,
                                      "default_min_w: 2 namespaces { name: \"safe\" min_w: 3 } "
                                      "namespaces { name: \"lww\" conflict: CONFLICT_LWW }"))
          .value();
  EXPECT_EQ(MinWFor(config, "safe/k"), 3u);
  EXPECT_EQ(MinWFor(config, "lww/k"), 2u);
  EXPECT_EQ(MinWFor(config, "k"), 2u);
}

TEST(PeerAddressTest, IsTheNodesOwnAddressWithoutALink) {
  const absl::StatusOr<pb::ClusterConfig> config = ParseClusterConfig(kThreeNodes);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(PeerAddress(*config, "n1", "n2"), "127.0.0.1:7002");
}

TEST(PeerAddressTest, HonoursADirectedLink) {
  const absl::StatusOr<pb::ClusterConfig> config = ParseClusterConfig(
      absl::StrCat(kThreeNodes, R"pb(links { from: "n1" to: "n2" address: "proxy:9012" })pb"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(PeerAddress(*config, "n1", "n2"), "proxy:9012");
  // The link is one-way, and other pairs keep the direct address.
  EXPECT_EQ(PeerAddress(*config, "n2", "n1"), "127.0.0.1:7001");
  EXPECT_EQ(PeerAddress(*config, "n3", "n2"), "127.0.0.1:7002");
}

TEST(FindNodeTest, FindsKnownIdsOnly) {
  const absl::StatusOr<pb::ClusterConfig> config = ParseClusterConfig(kThreeNodes);
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_NE(FindNode(*config, "n3"), nullptr);
  EXPECT_EQ(FindNode(*config, "n3")->address(), "127.0.0.1:7003");
  EXPECT_EQ(FindNode(*config, "n4"), nullptr);
}

}  // namespace
}  // namespace quorumkv
