#include "server/read_batcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <vector>

namespace quorumkv {
namespace {

using ::testing::ElementsAre;

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

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
  ReadBatcher batcher("n1", sender.Fn());
  batcher.Read("n2", ReadOf("a"), kNow + absl::Seconds(1), [](auto) {});
  ASSERT_EQ(sender.sent.size(), 1u);
  EXPECT_EQ(sender.sent[0].to, "n2");
  EXPECT_EQ(sender.sent[0].request.from(), "n1");
  EXPECT_THAT(sender.Keys(0), ElementsAre("a"));
}

TEST(ReadBatcherTest, ReadsWhileOneIsInFlightLeaveTogetherWhenItReturns) {
  FakeSender sender;
  ReadBatcher batcher("n1", sender.Fn());
  std::vector<std::string> answered;
  auto record = [&](std::string key) {
    return [&answered, key](absl::StatusOr<pb::ReplicaReadResponse> r) {
      if (r.ok() && r->found()) answered.push_back(key);
    };
  };
  batcher.Read("n2", ReadOf("a"), kNow + absl::Seconds(1), record("a"));
  batcher.Read("n2", ReadOf("b"), kNow + absl::Seconds(2), record("b"));
  batcher.Read("n2", ReadOf("c"), kNow + absl::Milliseconds(1500), record("c"));
  batcher.Read("n3", ReadOf("d"), kNow + absl::Seconds(1), record("d"));  // another peer
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
    batcher.Read("n2", ReadOf(key), kNow, [&statuses](absl::StatusOr<pb::ReplicaReadResponse> r) {
      statuses.push_back(r.status());
    });
  }
  sender.AnswerAll(0);
  ASSERT_EQ(sender.sent.size(), 2u);
}

TEST(ReadBatcherTest, AFailedBatchFailsEveryReadInIt) {
  FakeSender sender;
  ReadBatcher batcher("n1", sender.Fn());
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
  ReadBatcher batcher("n1", sender.Fn());
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
  ReadBatcher batcher("n1", sender.Fn());
  for (size_t i = 0; i <= ReadBatcher::kMaxBatch + 1; ++i) {
    batcher.Read("n2", ReadOf(std::to_string(i)), kNow, [](auto) {});
  }
  sender.AnswerAll(0);
  ASSERT_EQ(sender.sent.size(), 2u);
  EXPECT_EQ(static_cast<size_t>(sender.sent[1].request.reads_size()), ReadBatcher::kMaxBatch);
  sender.AnswerAll(1);
  ASSERT_EQ(sender.sent.size(), 3u);
  EXPECT_EQ(sender.sent[2].request.reads_size(), 1);
}

}  // namespace
}  // namespace quorumkv
