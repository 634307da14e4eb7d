// Freshness watermarks (replication/freshness.h): what a survey clears,
// the watermarks anti-entropy rounds set, and the staleness bound a read
// proves with them.
#include "replication/freshness.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "replication/replica_store.h"
#include "tests/unit/replication/test_cluster.h"

namespace quorumkv {
namespace {

using test_support::FakeNetwork;
using test_support::kAskedRoundsOnly;
using test_support::RunAntiEntropyRound;
using test_support::StoreAt;
using test_support::TestCluster;
using test_support::WrittenAs;

const std::vector<std::string> kSurveyNodes = {"n1", "n2", "n3", "n4"};
const std::vector<std::string> kSurveyHome = {"n1", "n2", "n3"};
const absl::Time kSurveySent = absl::FromUnixSeconds(1'000);

pb::SurveyAnswer CleanAnswer() {
  pb::SurveyAnswer answer;
  answer.set_answered(true);
  return answer;
}

Survey SurveyAnsweredBy(const std::vector<std::string>& nodes, const pb::SurveyAnswer& answer) {
  Survey survey(kSurveyNodes, kSurveySent);
  for (const std::string& node : nodes) survey.OnAnswer(node, answer);
  return survey;
}

TEST(SurveyTest, ClearsAPartitionOnceEveryNodeAnsweredWithNothingPendingOrLost) {
  Survey survey = SurveyAnsweredBy({"n1", "n2", "n3"}, CleanAnswer());
  EXPECT_FALSE(survey.done());
  EXPECT_FALSE(survey.Clears(7, kSurveyHome)) << "n4 has not answered";
  survey.OnAnswer("n4", CleanAnswer());
  EXPECT_TRUE(survey.done());
  EXPECT_TRUE(survey.Clears(7, kSurveyHome));
  EXPECT_EQ(survey.sent(), kSurveySent);
}

TEST(SurveyTest, ANodeThatFailedToAnswerClearsNothing) {
  Survey survey = SurveyAnsweredBy({"n1", "n2", "n3"}, CleanAnswer());
  survey.OnFailure("n4");
  EXPECT_TRUE(survey.done());
  EXPECT_FALSE(survey.Clears(7, kSurveyHome));
}

// A node that does not know surveys answers one as an exchange: its reply
// holds no answer, which must not read as a clean one.
TEST(SurveyTest, AReplyWithoutAnAnswerIsAFailure) {
  Survey survey = SurveyAnsweredBy({"n1", "n2", "n3"}, CleanAnswer());
  survey.OnAnswer("n4", pb::SurveyAnswer());
  EXPECT_TRUE(survey.done());
  EXPECT_FALSE(survey.Clears(7, kSurveyHome));
}

TEST(SurveyTest, AHintForAHomeReplicaHoldsBackThePartitionsItIsHomeOf) {
  pb::SurveyAnswer hinted = CleanAnswer();
  hinted.add_hints_pending_for("n3");
  Survey survey = SurveyAnsweredBy({"n1", "n2", "n3"}, CleanAnswer());
  survey.OnAnswer("n4", hinted);
  EXPECT_FALSE(survey.Clears(7, kSurveyHome));
  EXPECT_TRUE(survey.Clears(8, {"n1", "n2", "n4"}));
}

TEST(SurveyTest, AMarkedPartitionOrANodeThatMayHaveLostWritesHoldsBack) {
  pb::SurveyAnswer marked = CleanAnswer();
  marked.add_partitions_marked(7);
  Survey one = SurveyAnsweredBy(kSurveyNodes, marked);
  EXPECT_FALSE(one.Clears(7, kSurveyHome));
  EXPECT_TRUE(one.Clears(8, kSurveyHome));

  pb::SurveyAnswer every = CleanAnswer();
  every.add_partitions_marked(kEveryPartition);
  EXPECT_FALSE(SurveyAnsweredBy(kSurveyNodes, every).Clears(8, kSurveyHome));

  pb::SurveyAnswer lost = CleanAnswer();
  lost.set_may_lack_writes(true);
  EXPECT_FALSE(SurveyAnsweredBy(kSurveyNodes, lost).Clears(8, kSurveyHome));
}

TEST(FreshnessWatermarksTest, AWatermarkNeverMovesBackAndAgesWithTheClock) {
  FreshnessWatermarks watermarks;
  EXPECT_EQ(watermarks.AgeOf(3, kSurveySent), std::nullopt);
  watermarks.Advance(3, kSurveySent);
  watermarks.Advance(3, kSurveySent - absl::Seconds(5));  // an older round ends late
  EXPECT_EQ(watermarks.AgeOf(3, kSurveySent + absl::Milliseconds(250)), absl::Milliseconds(250));
  EXPECT_EQ(watermarks.AgeOf(4, kSurveySent), std::nullopt);
}

// A key of a ring partition whose home replicas include `in` and exclude
// `out` (empty: no exclusion); empty if there is none.
std::string KeyWithHome(const Ring& ring, const std::string& in, const std::string& out = "") {
  for (int i = 0; i < 10'000; ++i) {
    const std::string key = absl::StrCat("key", i);
    const std::vector<std::string>& home = ring.ForPartition(ring.PartitionOf(key)).home;
    auto has = [&](const std::string& n) {
      return std::find(home.begin(), home.end(), n) != home.end();
    };
    if (has(in) && (out.empty() || !has(out))) return key;
  }
  return "";
}

// The watermark age `id`'s replica read of `key` reports, in ms.
std::optional<int64_t> WatermarkAgeMs(TestCluster& c, const std::string& id,
                                      const std::string& key) {
  pb::ReplicaReadRequest read;
  read.set_key(key);
  read.set_from("test");
  absl::StatusOr<pb::ReplicaReadResponse> reply = c.node(id).HandleRead(read);
  EXPECT_TRUE(reply.ok()) << reply.status();
  if (!reply.ok() || !reply->has_watermark_age_us()) return std::nullopt;
  return reply->watermark_age_us() / 1000;
}

void RoundOnEveryPartition(TestCluster& c, const std::string& id,
                           const std::set<std::string>& paused = {}) {
  RunAntiEntropyRound(c, id, c.node(id).anti_entropy().RequestRound(std::nullopt), paused);
}

TEST(FreshnessTest, ARoundGivesItsPartitionsAWatermarkThatReadsProveABoundWith) {
  TestCluster c(3, kAskedRoundsOnly + std::string(" default_min_w: 1"));
  StoreAt(c, "n1", "k", WrittenAs("n1.1", 1, "v"));
  EXPECT_EQ(WatermarkAgeMs(c, "n1", "k"), std::nullopt) << "no round yet";
  const absl::Time asked = c.clock("n1").Now();
  RoundOnEveryPartition(c, "n1");
  const int64_t round_ms = absl::ToInt64Milliseconds(c.clock("n1").Now() - asked);
  const std::optional<int64_t> age = WatermarkAgeMs(c, "n1", "k");
  ASSERT_TRUE(age.has_value());
  EXPECT_LE(*age, round_ms) << "the watermark is the survey's start, after the round was asked";
  EXPECT_EQ(WatermarkAgeMs(c, "n2", "k"), std::nullopt) << "n2 ran no round";

  c.clock("n1").Advance(absl::Seconds(5));
  EXPECT_EQ(WatermarkAgeMs(c, "n1", "k"), *age + 5000);
  // R=1 through n1 answers from n1's replica: no strict overlap (1 + min_w
  // 1 is not over N=3), so its watermark proves the bound.
  const test_support::GetOutcome one = c.Get("n1", "k", 1);
  ASSERT_TRUE(one.status.ok()) << one.status;
  EXPECT_FALSE(one.response.quorum().strict_overlap());
  EXPECT_EQ(one.response.quorum().staleness_bound_ms(), *age + 5000);
  // R=3 holds strict overlap: staleness 0.
  EXPECT_EQ(c.Get("n1", "k", 3).response.quorum().staleness_bound_ms(), 0);
}

TEST(FreshnessTest, AHintPendingForAHomeReplicaHoldsBackThePartitionsOfThatHome) {
  TestCluster c(4, kAskedRoundsOnly);
  const Ring& ring = c.node("n1").ring();
  const std::string hinted = KeyWithHome(ring, "n1", "n4");  // n4 is a fallback of it
  ASSERT_FALSE(hinted.empty());
  const std::vector<std::string>& home = ring.ForPartition(ring.PartitionOf(hinted)).home;
  const std::string for_home = home[0] == "n1" ? home[1] : home[0];
  const std::string clear = KeyWithHome(ring, "n1", for_home);
  ASSERT_FALSE(clear.empty());
  pb::ReplicaWriteRequest hint;
  hint.set_key(hinted);
  hint.set_from("n4");
  hint.set_hinted_for(for_home);
  ToProto(WrittenAs("n4.1", 1, "v"), hint.mutable_object());
  ASSERT_TRUE(c.node("n4").HandleWrite(hint).ok());

  RoundOnEveryPartition(c, "n1", /*paused=*/{"n4"});  // n4 keeps its hint: no handoff
  EXPECT_EQ(WatermarkAgeMs(c, "n1", hinted), std::nullopt);
  EXPECT_NE(WatermarkAgeMs(c, "n1", clear), std::nullopt);
}

TEST(FreshnessTest, ANodeThatDoesNotAnswerTheSurveyHoldsBackEveryPartition) {
  TestCluster c(4, kAskedRoundsOnly);
  const std::string key = KeyWithHome(c.node("n1").ring(), "n1", "n4");
  ASSERT_FALSE(key.empty());
  c.net().SetHealth("n4", FakeNetwork::Health::kDown);
  RoundOnEveryPartition(c, "n1");
  EXPECT_EQ(WatermarkAgeMs(c, "n1", key), std::nullopt)
      << "its exchanges did not need n4, but n4 may hold the hints of its writes";
}

TEST(FreshnessTest, APartitionMarkedForRepairOnAnyNodeGetsNoWatermark) {
  TestCluster c(3, kAskedRoundsOnly);
  const Ring& ring = c.node("n1").ring();
  const uint32_t marked = ring.PartitionOf("k");
  std::string other;
  for (int i = 0; other.empty(); ++i) {
    if (ring.PartitionOf(absl::StrCat("k", i)) != marked) other = absl::StrCat("k", i);
  }
  ASSERT_TRUE(c.store("n3").MarkPartitionForRepair(marked).ok());
  RoundOnEveryPartition(c, "n1");
  EXPECT_EQ(WatermarkAgeMs(c, "n1", "k"), std::nullopt);
  EXPECT_NE(WatermarkAgeMs(c, "n1", other), std::nullopt);
}

// A home replica that answered the survey clean and lost its disk before
// its exchange: the write it alone held is gone, and its exchange replies
// say it may lack writes.
TEST(FreshnessTest, AHomeReplicaThatLostWritesAfterTheSurveyHoldsBackItsPartitions) {
  TestCluster c(3, kAskedRoundsOnly);
  StoreAt(c, "n3", "k", WrittenAs("n1.1", 1, "v"));
  c.MeetPeers();  // the peers see n3 holding data
  const uint64_t round = c.node("n1").anti_entropy().RequestRound(std::nullopt);
  c.node("n1").AntiEntropyTick();  // the survey goes out
  ASSERT_GT(c.net().DeliverAll(), 0);
  c.Restart("n3", /*wipe=*/true);
  RunAntiEntropyRound(c, "n1", round);
  EXPECT_EQ(WatermarkAgeMs(c, "n1", "k"), std::nullopt);
}

// The survey cleared every partition, then a home replica went down: the
// partitions it is home of get no watermark, the others do.
TEST(FreshnessTest, APartitionWhoseExchangeFailedGetsNoWatermark) {
  TestCluster c(4, kAskedRoundsOnly);
  const Ring& ring = c.node("n1").ring();
  const std::string without_n4 = KeyWithHome(ring, "n1", "n4");
  std::string with;
  for (int i = 0; with.empty() && i < 10'000; ++i) {
    const std::string key = absl::StrCat("key", i);
    const std::vector<std::string>& home = ring.ForPartition(ring.PartitionOf(key)).home;
    if (std::find(home.begin(), home.end(), "n1") != home.end() &&
        std::find(home.begin(), home.end(), "n4") != home.end()) {
      with = key;
    }
  }
  ASSERT_FALSE(with.empty());
  ASSERT_FALSE(without_n4.empty());
  const uint64_t round = c.node("n1").anti_entropy().RequestRound(std::nullopt);
  c.node("n1").AntiEntropyTick();  // the survey goes out
  ASSERT_GT(c.net().DeliverAll(), 0);
  c.net().SetHealth("n4", FakeNetwork::Health::kDown);
  RunAntiEntropyRound(c, "n1", round);
  EXPECT_EQ(WatermarkAgeMs(c, "n1", with), std::nullopt);
  EXPECT_NE(WatermarkAgeMs(c, "n1", without_n4), std::nullopt);
}

// A disk wiped before the round: the node says so in its survey answer
// (it may lack writes, or has marked every partition for repair).
TEST(FreshnessTest, AWipedNodeHoldsBackEveryWatermark) {
  TestCluster c(3, kAskedRoundsOnly);
  StoreAt(c, "n3", "k", WrittenAs("n1.1", 1, "v"));
  c.MeetPeers();  // the peers see n3 holding data
  c.Restart("n3", /*wipe=*/true);
  RoundOnEveryPartition(c, "n1");
  EXPECT_EQ(WatermarkAgeMs(c, "n1", "k"), std::nullopt);
}

TEST(FreshnessTest, ARestartForgetsTheWatermarks) {
  TestCluster c(3, kAskedRoundsOnly);
  RoundOnEveryPartition(c, "n1");
  ASSERT_NE(WatermarkAgeMs(c, "n1", "k"), std::nullopt);
  c.net().DeliverAll();
  c.Restart("n1", /*wipe=*/false);
  EXPECT_EQ(WatermarkAgeMs(c, "n1", "k"), std::nullopt);
}

}  // namespace
}  // namespace quorumkv
