// Quorum arithmetic, checked exhaustively for every cluster size a test can
// afford (N = 1..7) and every R, W just outside the valid range too.
#include "replication/quorum.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"

namespace quorumkv {
namespace {

constexpr uint32_t kMaxN = 7;

TEST(ValidateQuorumSizeTest, AcceptsExactlyOneToN) {
  for (uint32_t n = 1; n <= kMaxN; ++n) {
    for (uint32_t value = 0; value <= n + 1; ++value) {
      SCOPED_TRACE(absl::StrCat("n=", n, " value=", value));
      const absl::Status status = ValidateQuorumSize("W", value, n);
      EXPECT_EQ(status.ok(), value >= 1 && value <= n);
    }
  }
}

TEST(ValidateQuorumSizeTest, ErrorIsInvalidArgumentNamingParameterAndN) {
  for (uint32_t n = 1; n <= kMaxN; ++n) {
    for (uint32_t value : {0u, n + 1}) {
      for (const char* name : {"R", "W"}) {
        const absl::Status status = ValidateQuorumSize(name, value, n);
        EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
        EXPECT_EQ(status.message(), absl::StrCat(name, "=", value, " is not in 1..N=", n));
      }
    }
  }
}

TEST(ValidateQuorumSizeTest, MessageMatchesTheDocumentedExample) {
  EXPECT_EQ(ValidateQuorumSize("W", 4, 3).message(), "W=4 is not in 1..N=3");
}

TEST(StrictOverlapTest, IsRPlusWGreaterThanN) {
  for (uint32_t n = 1; n <= kMaxN; ++n) {
    for (uint32_t r = 0; r <= n + 1; ++r) {
      for (uint32_t w = 0; w <= n + 1; ++w) {
        EXPECT_EQ(StrictOverlap(r, w, n), r + w > n) << "r=" << r << " w=" << w << " n=" << n;
      }
    }
  }
}

// True iff every r-subset of n replicas shares a replica with every w-subset
// (vacuously true when no such subset exists, e.g. r > n).
bool EverySubsetPairIntersects(uint32_t r, uint32_t w, uint32_t n) {
  for (uint32_t read = 0; read < (1u << n); ++read) {
    if (static_cast<uint32_t>(std::popcount(read)) != r) continue;
    for (uint32_t write = 0; write < (1u << n); ++write) {
      if (static_cast<uint32_t>(std::popcount(write)) != w) continue;
      if ((read & write) == 0) return false;
    }
  }
  return true;
}

TEST(StrictOverlapTest, HoldsIffEveryReadQuorumMeetsEveryWriteQuorum) {
  for (uint32_t n = 1; n <= kMaxN; ++n) {
    for (uint32_t r = 0; r <= n + 1; ++r) {
      for (uint32_t w = 0; w <= n + 1; ++w) {
        EXPECT_EQ(StrictOverlap(r, w, n), EverySubsetPairIntersects(r, w, n))
            << "r=" << r << " w=" << w << " n=" << n;
      }
    }
  }
}

QuorumState Expected(uint32_t successes, uint32_t failures, uint32_t targets, uint32_t required) {
  if (successes >= required) return QuorumState::kMet;
  const uint32_t pending = targets - successes - failures;
  // Met only if enough of the replies still pending can succeed.
  return successes + pending >= required ? QuorumState::kPending : QuorumState::kImpossible;
}

TEST(EvaluateQuorumTest, EveryTallyOfEveryQuorumSize) {
  for (uint32_t targets = 1; targets <= kMaxN; ++targets) {
    for (uint32_t required = 0; required <= targets + 1; ++required) {
      for (uint32_t successes = 0; successes <= targets; ++successes) {
        for (uint32_t failures = 0; successes + failures <= targets; ++failures) {
          EXPECT_EQ(EvaluateQuorum(successes, failures, targets, required),
                    Expected(successes, failures, targets, required))
              << "successes=" << successes << " failures=" << failures << " targets=" << targets
              << " required=" << required;
        }
      }
    }
  }
}

TEST(EvaluateQuorumTest, NoRepliesYetIsPendingForAnyValidQuorum) {
  for (uint32_t n = 1; n <= kMaxN; ++n) {
    for (uint32_t required = 1; required <= n; ++required) {
      EXPECT_EQ(EvaluateQuorum(0, 0, n, required), QuorumState::kPending);
    }
  }
}

TEST(EvaluateQuorumTest, AllFailedIsImpossible) {
  for (uint32_t n = 1; n <= kMaxN; ++n) {
    for (uint32_t required = 1; required <= n; ++required) {
      EXPECT_EQ(EvaluateQuorum(0, n, n, required), QuorumState::kImpossible);
    }
  }
}

TEST(EvaluateQuorumTest, ImpossibleAsSoonAsFailuresExceedNMinusRequired) {
  // W=2 of 3: one failure leaves two chances, a second failure leaves one.
  EXPECT_EQ(EvaluateQuorum(0, 1, 3, 2), QuorumState::kPending);
  EXPECT_EQ(EvaluateQuorum(1, 1, 3, 2), QuorumState::kPending);
  EXPECT_EQ(EvaluateQuorum(1, 2, 3, 2), QuorumState::kImpossible);
  EXPECT_EQ(EvaluateQuorum(0, 2, 3, 2), QuorumState::kImpossible);
}

}  // namespace
}  // namespace quorumkv
