// Replica objects whose dots were never issued are refused (issued_dots.h):
// the bounds themselves, and a forged replica write that, stored, would
// have made a key unwritable through the node whose actor it names.
#include "replication/issued_dots.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/replication/test_cluster.h"

namespace quorumkv {
namespace {

using test_support::GetOutcome;
using test_support::PutOutcome;
using test_support::PutRequest;
using test_support::TestCluster;
using test_support::Values;
using test_support::WrittenAs;
using ::testing::HasSubstr;

const absl::Time kT0 = absl::FromUnixSeconds(1000);

TEST(IssuedDotsTest, OwnDotsAreBoundByTheLeaseExactly) {
  IssuedDots dots;
  const DotLease lease{.ceiling = 20'000, .block = 10'000};
  EXPECT_TRUE(dots.Check(WrittenAs("n1.a", 20'000, "v"), "n1.a", lease, kT0).ok());
  absl::Status refused = dots.Check(WrittenAs("n1.a", 20'001, "v"), "n1.a", lease, kT0);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.message(), HasSubstr("dot n1.a:20001 was never issued"));
}

TEST(IssuedDotsTest, APeersDotsAreBoundByItsLastPingPlusABlock) {
  IssuedDots dots;
  const DotLease own{.ceiling = 10'000, .block = 10'000};
  dots.Heard("n2", "n2.b", {.ceiling = 30'000, .block = 10'000}, kT0);
  EXPECT_TRUE(dots.Check(WrittenAs("n2.b", 40'000, "v"), "n1.a", own, kT0).ok());
  EXPECT_FALSE(dots.Check(WrittenAs("n2.b", 40'001, "v"), "n1.a", own, kT0).ok());
  // A ceiling never goes down (pings can arrive out of order).
  dots.Heard("n2", "n2.b", {.ceiling = 10'000, .block = 10'000}, kT0);
  EXPECT_TRUE(dots.Check(WrittenAs("n2.b", 40'000, "v"), "n1.a", own, kT0).ok());
  // An actor no ping named (an older generation of n2) is not checked.
  EXPECT_TRUE(dots.Check(WrittenAs("n2.old", uint64_t{1} << 62, "v"), "n1.a", own, kT0).ok());
  // A new actor of n2 (a wiped disk) replaces the old one.
  dots.Heard("n2", "n2.c", {.ceiling = 10'000, .block = 10'000}, kT0);
  EXPECT_FALSE(dots.Check(WrittenAs("n2.c", 20'001, "v"), "n1.a", own, kT0).ok());
  EXPECT_TRUE(dots.Check(WrittenAs("n2.b", uint64_t{1} << 62, "v"), "n1.a", own, kT0).ok());
}

// Cut off from n2 while n2's writes still come through another node, n1
// does not hold n2's dots to a ceiling it heard long ago.
TEST(IssuedDotsTest, APeerNotHeardFromLatelyIsNotChecked) {
  IssuedDots dots;
  dots.Heard("n2", "n2.b", {.ceiling = 10'000, .block = 10'000}, kT0);
  const Object far_on = WrittenAs("n2.b", 90'000, "v");
  EXPECT_FALSE(dots.Check(far_on, "n1.a", {}, kT0 + IssuedDots::kFreshFor / 2).ok());
  EXPECT_TRUE(dots.Check(far_on, "n1.a", {}, kT0 + IssuedDots::kFreshFor).ok());
}

TEST(IssuedDotsTest, APingNamesOnlyAnActorOfItsOwnNode) {
  IssuedDots dots;
  dots.Heard("n2", "n3.c", {.ceiling = 1, .block = 1}, kT0);  // n2 cannot speak for n3
  EXPECT_TRUE(dots.Check(WrittenAs("n3.c", 50'000, "v"), "n1.a", {}, kT0).ok());
  // A ceiling near the top does not wrap around.
  dots.Heard("n2", "n2.b", {.ceiling = UINT64_MAX - 1, .block = 10'000}, kT0);
  EXPECT_TRUE(dots.Check(WrittenAs("n2.b", 50'000, "v"), "n1.a", {}, kT0).ok());
}

TEST(IssuedDotsTest, APeerThatSaysNothingIsNotChecked) {
  IssuedDots dots;
  dots.Heard("n2", "n2.b", {}, kT0);  // a node of an older version
  EXPECT_TRUE(dots.Check(WrittenAs("n2.b", uint64_t{1} << 62, "v"), "n1.a", {}, kT0).ok());
}

// The probe that found the hole: a forged replica write with the dot
// n1.<epoch>:2^62 sent to every node replaced an acknowledged value, and
// from then on every put of the key through n1 failed.
TEST(IssuedDotsClusterTest, AForgedDotIsRefusedEverywhereAndTheKeyStaysWritable) {
  TestCluster c(3);  // the nodes have pinged each other: they know the leases
  ASSERT_TRUE(c.Put("n1", PutRequest("k", "acked", "", 3)).status.ok());
  const std::string n1 = c.store("n1").actor();
  pb::ReplicaWriteRequest forged;
  forged.set_key("k");
  forged.set_from("n2");
  ToProto(WrittenAs(n1, uint64_t{1} << 62, "evil"), forged.mutable_object());
  for (const std::string& id : c.ids()) {
    absl::StatusOr<pb::ReplicaWriteResponse> written = c.node(id).HandleWrite(forged);
    EXPECT_EQ(written.status().code(), absl::StatusCode::kInvalidArgument) << id;
    EXPECT_THAT(written.status().message(), HasSubstr("was never issued")) << id;
  }
  GetOutcome got = c.Get("n1", "k", 3);
  ASSERT_TRUE(got.status.ok()) << got.status;
  EXPECT_THAT(Values(got.response), ::testing::ElementsAre("acked"));
  PutOutcome put = c.Put("n1", PutRequest("k", "next", got.response.context(), 3));
  EXPECT_TRUE(put.status.ok()) << put.status;
}

}  // namespace
}  // namespace quorumkv
