// Sloppy quorum, hinted handoff and failure detection on a real 5-node
// cluster (N=3), through kvharness and kvctl.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "tests/integration/cluster_fixture.h"

namespace quorumkv::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kKey[] = "sloppy/k";

class SloppyQuorumTest : public ClusterTest {
 protected:
  void SetUp() override {
    StartCluster(5, 3);
    nlohmann::json where = KvctlJson({"where", kKey});
    for (const auto& h : where["home"]) home_.push_back(h);
    ASSERT_EQ(home_.size(), 3u);
  }

  // kvctl through every node but `avoid` (so that `avoid` never coordinates).
  CommandResult KvctlAvoiding(const std::string& avoid, std::vector<std::string> args) {
    std::vector<std::string> endpoints;
    for (size_t i = 0; i < node_endpoints_.size(); ++i) {
      if ("n" + std::to_string(i + 1) != avoid) endpoints.push_back(node_endpoints_[i]);
    }
    args.insert(args.begin(), {BinDir() + "/kvctl", "--cluster", absl::StrJoin(endpoints, ",")});
    return RunCommand(args);
  }

  // The status entry of `node` as seen through every node but `avoid`.
  nlohmann::json StatusOf(const std::string& node, const std::string& avoid) {
    CommandResult r = KvctlAvoiding(avoid, {"status", "--json"});
    nlohmann::json status = nlohmann::json::parse(r.out, nullptr, false);
    if (status.is_discarded()) return nlohmann::json();
    for (const auto& n : status["nodes"]) {
      if (n["id"] == node) return n;
    }
    return nlohmann::json();
  }

  // The status entry of `node` as the failure detector of `reporter` sees it.
  nlohmann::json StatusOfSeenBy(const std::string& node, const std::string& reporter) {
    CommandResult r = KvctlVia(reporter, {"status", "--json"});
    nlohmann::json status = nlohmann::json::parse(r.out, nullptr, false);
    if (status.is_discarded()) return nlohmann::json();
    for (const auto& n : status["nodes"]) {
      if (n["id"] == node) return n;
    }
    return nlohmann::json();
  }

  std::vector<std::string> home_;
};

TEST_F(SloppyQuorumTest, PutWithAHomeReplicaDownGoesToAFallbackAndTheHintComesBack) {
  const std::string down = home_[1];
  ASSERT_EQ(Harness({"kill", down}).exit_code, 0);

  CommandResult put = KvctlAvoiding(down, {"put", kKey, "v", "--w", "3", "--json"});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  nlohmann::json reply = nlohmann::json::parse(put.out);
  ASSERT_EQ(reply["quorum"]["fallbacks"].size(), 1u) << put.out;
  const std::string fallback = reply["quorum"]["fallbacks"][0];
  EXPECT_EQ(reply["quorum"]["hinted_for"][fallback], down);
  // A status reply late under load leaves a node out of the count: ask again.
  EXPECT_TRUE(WaitFor(absl::Seconds(10), [&] {
    return StatusOf(down, down)["hints_pending"] == 1;
  })) << StatusOf(down, down).dump();

  ASSERT_EQ(Harness({"restart", down}).exit_code, 0);
  EXPECT_TRUE(WaitFor(absl::Seconds(30), [&] { return StatusOf(down, "")["hints_pending"] == 0; }))
      << "the hint was not handed back within 30 s";

  // Only the three home replicas left: a strict read of all three finds it.
  for (int i = 1; i <= 5; ++i) {
    const std::string node = "n" + std::to_string(i);
    if (std::find(home_.begin(), home_.end(), node) == home_.end()) {
      ASSERT_EQ(Harness({"kill", node}).exit_code, 0);
    }
  }
  CommandResult get = Kvctl({"get", kKey, "--strict", "--r", "3", "--json"});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_THAT(LiveValues(nlohmann::json::parse(get.out)), ::testing::ElementsAre("v"));
}

TEST_F(SloppyQuorumTest, StrictPutWithAHomeReplicaKnownDownIsRefusedBeforeAnythingIsWritten) {
  const std::string down = home_[2];
  ASSERT_EQ(Harness({"kill", down}).exit_code, 0);
  // Whichever home replica coordinates must know it is down: a strict get
  // (which writes nothing) through it is then refused before any read.
  for (const std::string& coordinator : home_) {
    if (coordinator == down) continue;
    ASSERT_TRUE(WaitFor(
        absl::Seconds(10),
        [&] {
          CommandResult get = KvctlVia(coordinator, {"get", kKey, "--r", "3", "--strict"});
          return get.exit_code == 4 && get.err.find("no replica was asked") != std::string::npos;
        }))
        << coordinator << " never saw " << down << " down";
  }
  CommandResult put = KvctlAvoiding(down, {"put", kKey, "v", "--w", "3", "--strict"});
  EXPECT_EQ(put.exit_code, 4) << put.err;
  EXPECT_THAT(put.err, HasSubstr("quorum not met: W=3 needs 3 of the 3 home replicas and " + down +
                                 " is down"));
  EXPECT_THAT(put.err, HasSubstr("nothing written"));
  // Nothing was written: a sloppy read of every replica left finds nothing.
  CommandResult get = KvctlAvoiding(down, {"get", kKey, "--r", "2", "--strict"});
  EXPECT_EQ(get.exit_code, 3) << get.out << get.err;
}

TEST_F(SloppyQuorumTest, SloppyQuorumDemoPasses) {
  CommandResult demo = Harness({"demo", "sloppy-quorum"});
  EXPECT_EQ(demo.exit_code, 0) << demo.out << demo.err;
  EXPECT_THAT(demo.out, HasSubstr("verdict: the store behaved as expected"));
}

TEST_F(SloppyQuorumTest, StrictVsSloppyDemoPasses) {
  CommandResult demo = Harness({"demo", "strict-vs-sloppy"});
  EXPECT_EQ(demo.exit_code, 0) << demo.out << demo.err;
  EXPECT_THAT(demo.out, HasSubstr("verdict: the store behaved as expected"));
}

TEST_F(SloppyQuorumTest, PausedHomeReplicaIsSuspectedAndRoutedAround) {
  const std::string paused = home_[1];
  ASSERT_EQ(Harness({"pause", paused}).exit_code, 0);
  EXPECT_TRUE(WaitFor(absl::Seconds(10), [&] {
    const nlohmann::json s = StatusOf(paused, paused);
    return s["state"] == "suspect" || s["state"] == "down";
  }));
  CommandResult put = KvctlAvoiding(paused, {"put", kKey, "v", "--w", "3", "--json"});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  nlohmann::json reply = nlohmann::json::parse(put.out);
  ASSERT_EQ(reply["quorum"]["fallbacks"].size(), 1u) << put.out;
  EXPECT_EQ(reply["quorum"]["hinted_for"][reply["quorum"]["fallbacks"][0].get<std::string>()],
            paused);
  ASSERT_EQ(Harness({"resume", paused}).exit_code, 0);
}

TEST_F(SloppyQuorumTest, SlowHomeReplicaIsMarkedSlowAndRoutedAround) {
  const std::string slow = home_[1];
  // The detectors need a baseline of normal latencies first (64 samples,
  // after the 32 recent ones: about 10 s of pings).
  for (const std::string& coordinator : home_) {
    if (coordinator == slow) continue;
    ASSERT_TRUE(WaitFor(absl::Seconds(30), [&] {
      // A status call that failed (a loaded machine) reads as "not yet".
      const nlohmann::json seen = StatusOfSeenBy(slow, coordinator);
      const auto baseline = seen.is_object() ? seen.find("baseline_p99_ms") : seen.end();
      return baseline != seen.end() && baseline->is_number() && baseline->get<double>() > 0;
    }));
  }
  ASSERT_EQ(Harness({"delay", "*->" + slow, "300"}).exit_code, 0);
  // Every home replica that may coordinate the put must see it slow.
  for (const std::string& coordinator : home_) {
    if (coordinator == slow) continue;
    EXPECT_TRUE(WaitFor(absl::Seconds(20),
                        [&] { return StatusOfSeenBy(slow, coordinator)["state"] == "slow"; }))
        << coordinator << " sees " << StatusOfSeenBy(slow, coordinator).dump();
  }
  CommandResult put = KvctlAvoiding(slow, {"put", kKey, "v", "--w", "3", "--json"});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  nlohmann::json reply = nlohmann::json::parse(put.out);
  ASSERT_EQ(reply["quorum"]["fallbacks"].size(), 1u) << put.out;
  EXPECT_EQ(reply["quorum"]["hinted_for"][reply["quorum"]["fallbacks"][0].get<std::string>()],
            slow);
  EXPECT_EQ(Harness({"heal"}).exit_code, 0);
}

}  // namespace
}  // namespace quorumkv::testing
