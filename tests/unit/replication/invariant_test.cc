#include "replication/invariant.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "replication/object.h"

namespace quorumkv {
namespace {

using ::testing::HasSubstr;

absl::Status CheckPositive(int x) {
  QKV_INVARIANT(x > 0, "x must be positive");
  return absl::OkStatus();
}

// Restores the process's mode after a test that changes it.
class InvariantTest : public ::testing::Test {
 protected:
  void TearDown() override { SetInvariantMode(saved_); }
  const InvariantMode saved_ = GetInvariantMode();
};

TEST_F(InvariantTest, AHoldingCheckReturnsNothing) {
  SetInvariantMode(InvariantMode::kReport);
  const uint64_t before = InvariantViolations();
  EXPECT_TRUE(CheckPositive(1).ok());
  EXPECT_TRUE(QKV_INVARIANT_STATUS(1 + 1 == 2, "arithmetic").ok());
  EXPECT_EQ(InvariantViolations(), before);
}

TEST_F(InvariantTest, InReportModeAFailureIsCountedAndReturnsInternalNamingTheCheck) {
  SetInvariantMode(InvariantMode::kReport);
  const uint64_t before = InvariantViolations();
  absl::Status s = CheckPositive(0);
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(s.message(), HasSubstr("x must be positive (x > 0)"));
  EXPECT_THAT(s.message(), HasSubstr("invariant_test.cc"));
  EXPECT_EQ(QKV_INVARIANT_STATUS(false, "never").code(), absl::StatusCode::kInternal);
  EXPECT_EQ(InvariantViolations(), before + 2);
}

TEST_F(InvariantTest, InAbortModeAFailureAbortsPrintingTheContext) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        SetInvariantMode(InvariantMode::kAbort);
        SetInvariantContext("seed 7");
        CheckPositive(-1).IgnoreError();
      },
      "invariant failed at .*invariant_test.cc.*x must be positive \\(x > 0\\); seed 7");
}

TEST_F(InvariantTest, AnObjectWhoseSiblingIsOutsideItsContextOrDoubledFailsItsCheck) {
  SetInvariantMode(InvariantMode::kReport);
  Object object;
  object.context.Add(Dot{"n1.1", 2});
  object.siblings.push_back(Sibling{.dot = {"n1.1", 2}, .value = "a"});
  EXPECT_TRUE(CheckObjectInvariants(object).ok());
  object.siblings.push_back(Sibling{.dot = {"n1.1", 2}, .value = "b"});
  EXPECT_THAT(CheckObjectInvariants(object).message(), HasSubstr("two siblings carry dot"));
  object.siblings.pop_back();
  object.siblings.push_back(Sibling{.dot = {"n2.1", 1}, .value = "c"});
  EXPECT_THAT(CheckObjectInvariants(object).message(), HasSubstr("outside the object's context"));
}

}  // namespace
}  // namespace quorumkv
