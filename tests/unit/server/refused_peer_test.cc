// A client whose every node refuses the connection never sent its request:
// however the retries meet the deadline, a put must end UNAVAILABLE (kvctl
// exit 4, nothing written), never DEADLINE_EXCEEDED, which means "outcome
// unknown" (SPEC §3).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/kv_client.h"
#include "tools/kvharness/local_cluster.h"

namespace quorumkv {
namespace {

// Each put retries a refused node with waits of up to 2 ms until its 50 ms
// deadline: the last wait ends a little after its planned end, and now and
// then after the deadline. A put whose deadline passed during a wait must
// still report what its attempts said: UNAVAILABLE. The one exception is
// an attempt still in flight when the deadline passed (an instrumented
// build's slow call): gRPC's own DEADLINE_EXCEEDED, which the client
// cannot tell from a call that was sent.
TEST(RefusedPeerTest, APutThatRunsOutOfTimeBetweenRetriesIsUnavailable) {
  absl::StatusOr<std::vector<int>> ports = PickFreePorts(1);  // nobody listens there
  ASSERT_TRUE(ports.ok()) << ports.status();
  absl::StatusOr<std::unique_ptr<KvClient>> client = KvClient::Connect(
      KvClientOptions{.endpoints = {absl::StrCat("127.0.0.1:", (*ports)[0])},
                      .timeout = absl::Milliseconds(50),
                      .route_by_key = false,
                      .backoff = {.base = absl::Milliseconds(1), .cap = absl::Milliseconds(2)}});
  ASSERT_TRUE(client.ok()) << client.status();
  int unavailable = 0;
  for (int i = 0; i < 100; ++i) {
    absl::StatusOr<v1::PutResponse> put = (*client)->Put("k", "v");
    if (absl::IsUnavailable(put.status())) {
      // "no node reachable (...)", or the refusal itself when the deadline
      // passed as the last attempt failed.
      ++unavailable;
      continue;
    }
    ASSERT_EQ(put.status(), absl::DeadlineExceededError("Deadline Exceeded")) << "put " << i;
  }
  EXPECT_GT(unavailable, 50);
}

}  // namespace
}  // namespace quorumkv
