// KvClient against a real cluster with faults (client/kv_client.h): a slow
// first node is hedged around, a dead one opens its circuit breaker.
#include <gtest/gtest.h>

#include <string>

#include "absl/time/clock.h"
#include "client/kv_client.h"
#include "tests/integration/cluster_fixture.h"

namespace quorumkv::testing {
namespace {

class ClientResilienceTest : public ClusterTest {
 protected:
  void SetUp() override { StartCluster(3, 3); }

  // A client of n1 then n2, in that order.
  std::unique_ptr<KvClient> ClientOfN1ThenN2(bool hedge = true) {
    KvClientOptions options{.endpoints = {node_endpoints_[0], node_endpoints_[1]},
                            .timeout = absl::Seconds(10),
                            .route_by_key = false,
                            .tls = TlsOf()};
    options.hedge.enabled = hedge;
    absl::StatusOr<std::unique_ptr<KvClient>> client = KvClient::Connect(options);
    EXPECT_TRUE(client.ok()) << client.status();
    return *std::move(client);
  }
};

TEST_F(ClientResilienceTest, AReadStuckOnASlowFirstNodeIsHedgedToTheNext) {
  std::unique_ptr<KvClient> hedging = ClientOfN1ThenN2();
  std::unique_ptr<KvClient> plain = ClientOfN1ThenN2(/*hedge=*/false);
  ASSERT_TRUE(hedging->Put("k", "v").ok());
  for (int i = 0; i < 40; ++i) {  // the latencies the hedge delay comes from
    ASSERT_TRUE(hedging->Get("k").ok());
    ASSERT_TRUE(plain->Get("k").ok());
  }
  // Anything faster than n1's delay came from the hedge, however loaded the
  // machine (the hedge to n2 makes a first connection to it).
  constexpr int kN1DelayMs = 3000;
  ASSERT_EQ(Harness({"delay", "client->n1", std::to_string(kN1DelayMs)}).exit_code, 0);

  const uint64_t hedged_before = hedging->hedged_reads();
  absl::Time start = absl::Now();
  absl::StatusOr<v1::GetResponse> hedged = hedging->Get("k");
  const absl::Duration hedged_took = absl::Now() - start;
  ASSERT_TRUE(hedged.ok()) << hedged.status();
  EXPECT_EQ(hedged->quorum().coordinator(), "n2");
  EXPECT_LT(hedged_took, absl::Milliseconds(kN1DelayMs));
  EXPECT_EQ(hedging->hedged_reads(), hedged_before + 1);

  start = absl::Now();
  ASSERT_TRUE(plain->Get("k").ok());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(kN1DelayMs))
      << "without hedging it waits for n1";
}

TEST_F(ClientResilienceTest, ADeadNodeOpensItsBreakerAndReadsGoOn) {
  std::unique_ptr<KvClient> client = ClientOfN1ThenN2(/*hedge=*/false);
  ASSERT_TRUE(client->Put("k", "v").ok());
  ASSERT_EQ(Harness({"kill", "n1"}).exit_code, 0);
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<v1::GetResponse> got = client->Get("k");
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->quorum().coordinator(), "n2");
  }
  const auto states = client->BreakerStates();
  ASSERT_EQ(states.size(), 2u);
  EXPECT_EQ(states[0].second, "open") << "3 failures in a row open it";
  EXPECT_EQ(states[1].second, "closed");
}

}  // namespace
}  // namespace quorumkv::testing
