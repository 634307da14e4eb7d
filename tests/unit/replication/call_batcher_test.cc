#include "replication/call_batcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "replication/clock.h"

namespace quorumkv {
namespace {

using ::testing::ElementsAre;

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

// Before every deadline the tests give, unless a test moves it.
ManualClock* TestClock() {
  static ManualClock* clock = new ManualClock(kNow - absl::Hours(1));
  return clock;
}

// Records the batches sent; the test completes them.
struct FakeSender {
  struct Sent {
    std::string to;
    pb::ReplicaReadBatchRequest request;
    absl::Time deadline;
    Transport::Callback<pb::ReplicaReadBatchResponse> done;
  };
  std::vector<Sent> sent;

  ReadBatcher::SendBatch Fn() {
    return [this](const std::string& to, pb::ReplicaReadBatchRequest request, absl::Time deadline,
                  Transport::Callback<pb::ReplicaReadBatchResponse> done) {
      sent.push_back(Sent{to, std::move(request), deadline, std::move(done)});
    };
  }
  std::vector<std::string> Keys(size_t i) const {
    std::vector<std::string> keys;
    for (const auto& r : sent[i].request.reads()) keys.push_back(r.key());
    return keys;
  }
  // Answers batch i: every read found.
  void AnswerAll(size_t i) {
    pb::ReplicaReadBatchResponse response;
    for (int r = 0; r < sent[i].request.reads_size(); ++r) {
      response.add_results()->mutable_response()->set_found(true);
    }
    Complete(i, std::move(response));
  }
  void Complete(size_t i, absl::StatusOr<pb::ReplicaReadBatchResponse> result) {
    auto done = std::move(sent[i].done);
    done(std::move(result));
  }
};

pb::ReplicaReadRequest ReadOf(const std::string& key) {
  pb::ReplicaReadRequest r;
  r.set_key(key);
  return r;
}

TEST(ReadBatcherTest, AReadGoesAtOnceWhenNothingIsInFlight) {
  FakeSender sender;
  ReadBatcher batcher("n1", TestClock(), sender.Fn());
  batcher.Call("n2", ReadOf("a"), kNow + absl::Seconds(1), [](auto) {});
  ASSERT_EQ(sender.sent.size(), 1u);
  EXPECT_EQ(sender.sent[0].to, "n2");
  EXPECT_EQ(sender.sent[0].request.from(), "n1");
  EXPECT_THAT(sender.Keys(0), ElementsAre("a"));
}

TEST(ReadBatcherTest, ReadsWhileOneIsInFlightLeaveTogetherWhenItReturns) {
  FakeSender sender;
  ReadBatcher batcher("n1", TestClock(), sender.Fn());
  std::vector<std::string> answered;
  auto record = [&](std::string key) {
    return [&answered, key](absl::StatusOr<pb::ReplicaReadResponse> r) {
      if (r.ok() && r->found()) answered.push_back(key);
    };
  };
  batcher.Call("n2", ReadOf("a"), kNow + absl::Seconds(1), record("a"));
  batcher.Call("n2", ReadOf("b"), kNow + absl::Seconds(2), record("b"));
  batcher.Call("n2", ReadOf("c"), kNow + absl::Milliseconds(1500), record("c"));
  batcher.Call("n3", ReadOf("d"), kNow + absl::Seconds(1), record("d"));  // another peer
  ASSERT_EQ(sender.sent.size(), 2u);
  sender.AnswerAll(0);
  ASSERT_EQ(sender.sent.size(), 3u);
  EXPECT_THAT(sender.Keys(2), ElementsAre("b", "c"));
  EXPECT_EQ(sender.sent[2].deadline, kNow + absl::Milliseconds(1500)) << "the earliest deadline";
  sender.AnswerAll(2);
  sender.AnswerAll(1);
  EXPECT_THAT(answered, ElementsAre("a", "b", "c", "d"));
}

// Reads a, b and c from n2 and answers the first call (a alone): b and c
// then wait in the second call. Each read's status lands in `statuses`.
void ReadThreeAndAnswerTheFirst(ReadBatcher& batcher, FakeSender& sender,
                                std::vector<absl::Status>& statuses) {
  for (const char* key : {"a", "b", "c"}) {
    batcher.Call("n2", ReadOf(key), kNow, [&statuses](absl::StatusOr<pb::ReplicaReadResponse> r) {
      statuses.push_back(r.status());
    });
  }
  sender.AnswerAll(0);
  ASSERT_EQ(sender.sent.size(), 2u);
}

TEST(ReadBatcherTest, AFailedBatchFailsEveryReadInIt) {
  FakeSender sender;
  ReadBatcher batcher("n1", TestClock(), sender.Fn());
  std::vector<absl::Status> statuses;
  ReadThreeAndAnswerTheFirst(batcher, sender, statuses);
  sender.Complete(1, absl::UnavailableError("cut"));
  ASSERT_EQ(statuses.size(), 3u);
  EXPECT_TRUE(statuses[0].ok());
  EXPECT_EQ(statuses[1].code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(statuses[2].code(), absl::StatusCode::kUnavailable);
}

TEST(ReadBatcherTest, EachReadGetsItsOwnResultAndAShortAnswerIsAnError) {
  FakeSender sender;
  ReadBatcher batcher("n1", TestClock(), sender.Fn());
  std::vector<absl::Status> statuses;
  ReadThreeAndAnswerTheFirst(batcher, sender, statuses);
  pb::ReplicaReadBatchResponse response;
  pb::ReplicaReadResult* failed = response.add_results();
  failed->set_code(static_cast<int>(absl::StatusCode::kDataLoss));
  failed->set_message("corrupt");
  sender.Complete(1, std::move(response));  // one result for two reads
  ASSERT_EQ(statuses.size(), 3u);
  EXPECT_EQ(statuses[1], absl::DataLossError("corrupt"));
  EXPECT_EQ(statuses[2].code(), absl::StatusCode::kInternal);
}

TEST(ReadBatcherTest, ABatchHoldsAtMostkMaxBatchReads) {
  FakeSender sender;
  ReadBatcher batcher("n1", TestClock(), sender.Fn());
  for (size_t i = 0; i <= ReadBatcher::kMaxBatch + 1; ++i) {
    batcher.Call("n2", ReadOf(std::to_string(i)), kNow, [](auto) {});
  }
  sender.AnswerAll(0);
  ASSERT_EQ(sender.sent.size(), 2u);
  EXPECT_EQ(static_cast<size_t>(sender.sent[1].request.reads_size()), ReadBatcher::kMaxBatch);
  sender.AnswerAll(1);
  ASSERT_EQ(sender.sent.size(), 3u);
  EXPECT_EQ(sender.sent[2].request.reads_size(), 1);
}

TEST(ReadBatcherTest, ReadsThePeerDidNotRunGoFirstInTheNextBatch) {
  FakeSender sender;
  ReadBatcher batcher("n1", TestClock(), sender.Fn());
  std::vector<std::string> answered;
  for (const char* key : {"a", "b", "c", "d"}) {
    batcher.Call("n2", ReadOf(key), kNow, [&answered, key](auto r) {
      if (r.ok()) answered.push_back(key);
    });
  }
  sender.AnswerAll(0);  // a; b, c and d now go together
  pb::ReplicaReadBatchResponse partial;
  partial.add_results()->mutable_response()->set_found(true);
  partial.add_results()->set_not_run(true);
  partial.add_results()->set_not_run(true);
  sender.Complete(1, std::move(partial));
  ASSERT_EQ(sender.sent.size(), 3u);
  EXPECT_THAT(sender.Keys(2), ElementsAre("c", "d"));
  sender.AnswerAll(2);
  EXPECT_THAT(answered, ElementsAre("a", "b", "c", "d"));
}

TEST(ReadBatcherTest, APeerThatRunsNoReadOfABatchFailsItsFirstRead) {
  FakeSender sender;
  ReadBatcher batcher("n1", TestClock(), sender.Fn());
  absl::Status status;
  batcher.Call("n2", ReadOf("a"), kNow, [&status](auto r) { status = r.status(); });
  pb::ReplicaReadBatchResponse none;
  none.add_results()->set_not_run(true);
  sender.Complete(0, std::move(none));
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(sender.sent.size(), 1u) << "not sent again";
}

TEST(ReadBatcherTest, ABatchHoldsAtMostkMaxBatchBytesOfRequests) {
  FakeSender sender;
  ReadBatcher batcher("n1", TestClock(), sender.Fn());
  const std::string big(ReadBatcher::kMaxBatchBytes / 2, 'k');
  for (int i = 0; i < 4; ++i) batcher.Call("n2", ReadOf(big), kNow, [](auto) {});
  sender.AnswerAll(0);
  ASSERT_EQ(sender.sent.size(), 2u);
  EXPECT_EQ(sender.sent[1].request.reads_size(), 1) << "two halves and framing pass the limit";
}

TEST(WriteBatcherTest, WritesWhileOneIsInFlightLeaveTogetherAndEachGetsItsResult) {
  std::vector<pb::ReplicaWriteBatchRequest> sent;
  std::vector<Transport::Callback<pb::ReplicaWriteBatchResponse>> callbacks;
  WriteBatcher batcher(
      "n1", TestClock(),
      [&](const std::string&, pb::ReplicaWriteBatchRequest request, absl::Time, auto done) {
        sent.push_back(std::move(request));
        callbacks.push_back(std::move(done));
      });
  std::vector<absl::Status> statuses;
  for (const char* key : {"a", "b", "c"}) {
    pb::ReplicaWriteRequest write;
    write.set_key(key);
    batcher.Call("n2", write, kNow, [&statuses](auto r) { statuses.push_back(r.status()); });
  }
  ASSERT_EQ(sent.size(), 1u);
  callbacks[0](pb::ReplicaWriteBatchResponse());  // no result for a: an error
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1].writes_size(), 2);
  EXPECT_EQ(sent[1].from(), "n1");
  pb::ReplicaWriteBatchResponse reply;
  reply.add_results();
  pb::ReplicaWriteResult* failed = reply.add_results();
  failed->set_code(static_cast<int>(absl::StatusCode::kResourceExhausted));
  failed->set_message("disk full");
  callbacks[1](std::move(reply));
  ASSERT_EQ(statuses.size(), 3u);
  EXPECT_EQ(statuses[0].code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(statuses[1].ok());
  EXPECT_EQ(statuses[2], absl::ResourceExhaustedError("disk full"));
}

TEST(ReadBatcherTest, AReadWhoseDeadlinePassedWhileItWaitedFailsWithoutBeingSent) {
  FakeSender sender;
  ManualClock clock(kNow);
  ReadBatcher batcher("n1", &clock, sender.Fn());
  std::vector<absl::Status> statuses;
  auto record = [&statuses](auto r) { statuses.push_back(r.status()); };
  batcher.Call("n2", ReadOf("a"), kNow + absl::Seconds(1), record);
  batcher.Call("n2", ReadOf("short"), kNow + absl::Milliseconds(10), record);
  batcher.Call("n2", ReadOf("long"), kNow + absl::Seconds(5), record);
  clock.Advance(absl::Milliseconds(500));
  sender.AnswerAll(0);
  ASSERT_EQ(sender.sent.size(), 2u);
  EXPECT_THAT(sender.Keys(1), ElementsAre("long"));
  EXPECT_EQ(sender.sent[1].deadline, kNow + absl::Seconds(5));
  ASSERT_EQ(statuses.size(), 2u);
  EXPECT_TRUE(statuses[0].ok());
  EXPECT_EQ(statuses[1].code(), absl::StatusCode::kDeadlineExceeded);
}

}  // namespace
}  // namespace quorumkv
