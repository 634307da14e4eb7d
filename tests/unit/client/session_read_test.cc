#include "client/session_read.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "replication/object_codec.h"

namespace quorumkv {
namespace {

using ::testing::HasSubstr;

const std::vector<std::string> kHomes = {"n2", "n1", "n3"};

v1::GetResponse Reply(const VersionVector& context, std::optional<int64_t> bound = std::nullopt) {
  v1::GetResponse get;
  get.set_key("k");
  get.set_context(EncodeContext(context, "k"));
  if (bound) get.mutable_quorum()->set_staleness_bound_ms(*bound);
  return get;
}

// A session that wrote n1.aa:5 to k (through n1).
Session Wrote() {
  Session session;
  v1::PutResponse put;
  put.mutable_dot()->set_actor("n1.aa");
  put.mutable_dot()->set_counter(5);
  EXPECT_TRUE(session.RecordWrite("k", put).ok());
  return session;
}

const VersionVector kHasWrite = VersionVector::FromSortedEntries({{"n1.aa", 5}});
const VersionVector kOld = VersionVector::FromSortedEntries({{"n1.aa", 4}});

TEST(SessionReadTest, AReplyThatSatisfiesTheSessionIsTakenAtOnce) {
  Session session = Wrote();
  SessionRead read(&session, "k", {.r = 1}, [] { return kHomes; });
  EXPECT_EQ(read.next().Describe(), "R=1");
  read.OnReply(Reply(kHasWrite));
  ASSERT_TRUE(read.done());
  ASSERT_TRUE(read.result().ok());
  EXPECT_EQ(read.result()->session().attempts(), 1u);
  EXPECT_TRUE(read.result()->session().escalations().empty());
}

TEST(SessionReadTest, AShortReplyEscalatesToAllHomesThroughTheWriterThenEachHome) {
  Session session = Wrote();
  SessionRead read(&session, "k", {.r = 1}, [] { return kHomes; });
  read.OnReply(Reply(kOld));
  ASSERT_FALSE(read.done());
  EXPECT_EQ(read.next().Describe(), "R=3 via n1");
  read.OnReply(absl::UnavailableError("quorum not met: got 1 of R=3 replies"));
  ASSERT_FALSE(read.done());
  EXPECT_EQ(read.next().Describe(), "R=1 via n1") << "the writer first";
  read.OnReply(Reply(kHasWrite));
  ASSERT_TRUE(read.done());
  ASSERT_TRUE(read.result().ok());
  EXPECT_EQ(read.result()->session().attempts(), 3u);
  ASSERT_EQ(read.result()->session().escalations_size(), 2);
  EXPECT_THAT(read.result()->session().escalations(0),
              HasSubstr("read 1 (R=1) fell short: lacks the session's own write n1.aa:5"));
  EXPECT_THAT(read.result()->session().escalations(1), HasSubstr("read 2 (R=3 via n1) failed"));
}

TEST(SessionReadTest, NoReplyEnoughFailsNamingTheGuaranteeAndEveryRead) {
  Session session = Wrote();
  SessionRead read(&session, "k", {.r = 2}, [] { return kHomes; });
  std::vector<std::string> sent;
  while (!read.done()) {
    sent.push_back(read.next().Describe());
    read.OnReply(Reply(kOld));
  }
  EXPECT_EQ(sent, (std::vector<std::string>{"R=2", "R=3 via n1", "R=1 via n1", "R=1 via n2",
                                            "R=1 via n3"}));
  EXPECT_TRUE(IsSessionGuaranteeFailure(read.result().status()));
  EXPECT_THAT(read.result().status().message(),
              HasSubstr("read-your-writes not satisfiable: 5 reads, none enough"));
}

TEST(SessionReadTest, AnErrorOfTheReadAsAskedIsTheOutcome) {
  Session session = Wrote();
  SessionRead read(&session, "k", {}, [] { return kHomes; });
  read.OnReply(absl::UnavailableError("quorum not met"));
  ASSERT_TRUE(read.done());
  EXPECT_EQ(read.result().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(IsSessionGuaranteeFailure(absl::FailedPreconditionError("too many siblings")));
}

TEST(SessionReadTest, OutOfTimeMidLadderIsDeadlineExceededNotASessionFailure) {
  Session session = Wrote();
  SessionRead read(&session, "k", {.r = 1}, [] { return kHomes; });
  read.OnReply(Reply(kOld));
  read.OnDeadline();
  ASSERT_TRUE(read.done());
  EXPECT_EQ(read.result().status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_FALSE(IsSessionGuaranteeFailure(read.result().status()));
  EXPECT_THAT(read.result().status().message(), HasSubstr("lacks the session's own write"));
}

TEST(SessionReadTest, AReadOlderThanOneSeenFailsAsMonotonicReads) {
  Session session;
  ASSERT_TRUE(session.RecordRead("k", Reply(kHasWrite)).ok());
  SessionRead read(&session, "k", {.r = 3}, [] { return kHomes; });  // R=N already: no R=N rung
  while (!read.done()) read.OnReply(Reply(kOld));
  EXPECT_THAT(read.result().status().message(), HasSubstr("monotonic reads not satisfiable: 4"));
}

TEST(SessionReadTest, UnknownStalenessEscalatesToAllHomesOnly) {
  Session session;
  SessionRead read(&session, "k", {.r = 1, .max_staleness = absl::Seconds(1)},
                   [] { return kHomes; });
  read.OnReply(Reply({}));  // no bound: unknown
  ASSERT_FALSE(read.done());
  EXPECT_EQ(read.next().Describe(), "R=3");
  read.OnReply(Reply({}, /*bound=*/0));
  ASSERT_TRUE(read.result().ok());
  EXPECT_FALSE(read.result()->session().stale());
  EXPECT_THAT(read.result()->session().escalations(0), HasSubstr("staleness unknown"));
}

TEST(SessionReadTest, OverTheBoundItFailsOrReturnsTheReplyFlaggedStaleIfAllowed) {
  Session session;
  for (bool allow_stale : {false, true}) {
    SessionRead read(&session, "k",
                     {.r = 1, .max_staleness = absl::Milliseconds(10), .allow_stale = allow_stale},
                     [] { return kHomes; });
    std::vector<std::string> sent;
    while (!read.done()) {
      sent.push_back(read.next().Describe());
      read.OnReply(Reply({}, /*bound=*/250));
    }
    EXPECT_EQ(sent.size(), 2u) << "no single-replica rungs for staleness alone";
    if (allow_stale) {
      ASSERT_TRUE(read.result().ok());
      EXPECT_TRUE(read.result()->session().stale());
      EXPECT_EQ(read.result()->quorum().staleness_bound_ms(), 250);
    } else {
      EXPECT_THAT(read.result().status().message(), HasSubstr("bounded staleness not satisfiable"));
      EXPECT_THAT(read.result().status().message(), HasSubstr("staleness bound 250 ms"));
    }
  }
}

}  // namespace
}  // namespace quorumkv
