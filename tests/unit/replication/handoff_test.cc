// HandoffManager over an in-memory store, a failure detector fed by hand and
// a transport whose writes complete only when the test says so.
#include "replication/handoff.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "replication/logging.h"
#include "replication/object_codec.h"
#include "tests/unit/replication/fake_store.h"
#include "tests/unit/replication/object_printers.h"
#include "tests/unit/test_support.h"

namespace quorumkv {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::StartsWith;

using test_support::kRefused;
using test_support::kStart;

using test_support::OneValue;

// Records Writes; each completes when the test calls Complete. Only Write
// is expected. Not thread-safe: everything runs on the test's thread.
class FakeTransport : public Transport {
 public:
  struct WriteCall {
    std::string to;
    pb::ReplicaWriteRequest request;
    absl::Time deadline;
    Callback<pb::ReplicaWriteResponse> done;  // null once completed
  };

  void Write(const std::string& to, const pb::ReplicaWriteRequest& request, absl::Time deadline,
             Callback<pb::ReplicaWriteResponse> done) override {
    writes.push_back(WriteCall{to, request, deadline, std::move(done)});
    if (complete_at_once) Complete(writes.size() - 1, absl::OkStatus());
  }
  void Read(const std::string&, const pb::ReplicaReadRequest&, absl::Time,
            Callback<pb::ReplicaReadResponse> done) override {
    ADD_FAILURE() << "handoff does not read";
    done(absl::UnimplementedError("read"));
  }
  void CoordinatePut(const std::string&, const pb::CoordinatePutRequest&, absl::Time,
                     Callback<pb::CoordinatePutResponse> done) override {
    ADD_FAILURE() << "handoff does not coordinate";
    done(absl::UnimplementedError("coordinate_put"));
  }
  void Ping(const std::string&, const pb::PingRequest&, absl::Time,
            Callback<pb::PingResponse> done) override {
    ADD_FAILURE() << "handoff does not ping";
    done(absl::UnimplementedError("ping"));
  }
  void Exchange(const std::string&, const pb::ExchangeRequest&, absl::Time,
                Callback<pb::ExchangeResponse> done) override {
    ADD_FAILURE() << "handoff does not exchange trees";
    done(absl::UnimplementedError("exchange"));
  }

  // Runs the callback of writes[i]: an ack if `status` is OK.
  void Complete(size_t i, const absl::Status& status) {
    ASSERT_LT(i, writes.size());
    ASSERT_TRUE(writes[i].done) << "write " << i << " completed twice";
    Callback<pb::ReplicaWriteResponse> done = std::move(writes[i].done);
    writes[i].done = nullptr;
    if (status.ok()) {
      done(pb::ReplicaWriteResponse());
    } else {
      done(status);
    }
  }

  // "home:key" of every write so far.
  std::vector<std::string> Pushed() const {
    std::vector<std::string> out;
    for (const WriteCall& w : writes) out.push_back(absl::StrCat(w.to, ":", w.request.key()));
    return out;
  }

  std::vector<WriteCall> writes;
  bool complete_at_once = false;  // ack inside Write, before it returns
};

class HandoffTest : public ::testing::Test {
 protected:
  HandoffTest() : detector_({"n2", "n3"}, FailureDetectorOptions(), kStart) {}

  void SetUp() override { Restart(HandoffOptions()); }

  void Restart(HandoffOptions options) {
    // A key's partition is its length: easy to tell apart in tests.
    handoff_ = std::make_unique<HandoffManager>(
        "n1", hints(), &transport_, &detector_,
        [](const std::string& key) { return static_cast<uint32_t>(key.size()); }, options);
  }

  // Stores a hint for (home, key) as a sloppy write would, created at `now`.
  Object AddHint(const std::string& home, const std::string& key, const Object& object,
                 absl::Time now) {
    absl::StatusOr<Object> stored =
        hints()->Update(home, key, HintLimits(), now,
                        [&](const std::optional<Object>& current) -> absl::StatusOr<Object> {
                          return current ? Sync(*current, object) : object;
                        });
    EXPECT_TRUE(stored.ok()) << stored.status();
    return stored.ok() ? *stored : Object();
  }
  Object AddHint(const std::string& home, const std::string& key, const std::string& value) {
    return AddHint(home, key, OneValue("c.1", 1, value), now_);
  }
  bool HasHint(const std::string& home, const std::string& key) {
    absl::StatusOr<std::optional<Object>> hint = hints()->Read(home, key);
    EXPECT_TRUE(hint.ok()) << hint.status();
    return hint.ok() && hint->has_value();
  }

  // Advances time; the homes in `answering_` answer a ping; then ticks.
  void Tick(absl::Duration advance = absl::Milliseconds(1)) {
    now_ += advance;
    for (const std::string& home : answering_)
      detector_.OnAnswer(home, absl::Milliseconds(1), now_);
    handoff_->Tick(now_);
  }
  // The first pushes. Two ticks: the first may find the token bucket empty
  // (see TheFirstTickPushesAtOnce); a millisecond at the default rate fills
  // it for many hints.
  void StartPushing() {
    Tick();
    Tick();
  }

  Hints* hints() { return store_.hints(); }

  test_support::FakeStore store_{"n1", 1};
  FakeTransport transport_;
  FailureDetector detector_;
  std::unique_ptr<HandoffManager> handoff_;
  std::set<std::string> answering_ = {"n2", "n3"};
  absl::Time now_ = kStart;
};

TEST_F(HandoffTest, NothingIsPushedToAHomeThatIsDown) {
  AddHint("n2", "a", "v");
  AddHint("n3", "b", "v");
  answering_.erase("n2");
  detector_.OnNoAnswer("n2", kRefused, now_);
  StartPushing();
  EXPECT_THAT(transport_.Pushed(), ElementsAre("n3:b"));
}

TEST_F(HandoffTest, NothingIsPushedToAHomeThatIsSuspect) {
  AddHint("n2", "a", "v");
  AddHint("n3", "b", "v");
  answering_.erase("n2");
  Tick(absl::Milliseconds(600));
  Tick();
  ASSERT_EQ(detector_.StateOf("n2", now_), PeerState::kSuspect);
  EXPECT_THAT(transport_.Pushed(), ElementsAre("n3:b"));
}

TEST_F(HandoffTest, NothingIsPushedToAHomeThatIsSlow) {
  AddHint("n2", "a", "v");
  AddHint("n3", "b", "v");
  for (int i = 0; i < 96 + 32; ++i) {
    detector_.OnAnswer("n2", absl::Milliseconds(i < 96 ? 1 : 50), now_);
  }
  StartPushing();
  ASSERT_EQ(detector_.StateOf("n2", now_), PeerState::kSlow);
  EXPECT_THAT(transport_.Pushed(), ElementsAre("n3:b"));
}

TEST_F(HandoffTest, AnUpHomeGetsEachHintAsAPlainReplicaWrite) {
  const Object a = AddHint("n2", "a", "va");
  AddHint("n2", "b", "vb");
  StartPushing();
  ASSERT_THAT(transport_.Pushed(), ElementsAre("n2:a", "n2:b"));
  const pb::ReplicaWriteRequest& request = transport_.writes[0].request;
  EXPECT_EQ(request.from(), "n1");
  EXPECT_THAT(request.hinted_for(), IsEmpty());
  EXPECT_EQ(FromProto(request.object()).value(), a);
}

TEST_F(HandoffTest, APushHasADeadlineOfPushTimeout) {
  AddHint("n2", "a", "v");
  StartPushing();
  ASSERT_EQ(transport_.writes.size(), 1u);
  EXPECT_LE(transport_.writes[0].deadline, now_ + absl::Seconds(2));
  EXPECT_GE(transport_.writes[0].deadline, now_ - absl::Milliseconds(1) + absl::Seconds(2));
}

TEST_F(HandoffTest, TheFirstTickPushesAtOnce) {
  AddHint("n2", "a", "v");
  Tick();
  EXPECT_THAT(transport_.Pushed(), ElementsAre("n2:a"))
      << "the token bucket starts empty: the first tick with work pushes nothing";
}

TEST_F(HandoffTest, AHintIsDeletedAtTheTickAfterItsAck) {
  AddHint("n2", "a", "v");
  StartPushing();
  ASSERT_EQ(transport_.writes.size(), 1u);
  transport_.Complete(0, absl::OkStatus());
  EXPECT_TRUE(HasHint("n2", "a")) << "deleted on the transport's callback";
  Tick();
  EXPECT_FALSE(HasHint("n2", "a"));
  EXPECT_THAT(hints()->Summarize(), IsEmpty());
}

TEST_F(HandoffTest, AnAckRunInsideWriteIsSettledAtTheNextTick) {
  transport_.complete_at_once = true;
  AddHint("n2", "a", "v");
  StartPushing();
  Tick();
  EXPECT_FALSE(HasHint("n2", "a"));
  EXPECT_EQ(handoff_->stats().delivered, 1u);
}

TEST_F(HandoffTest, AHintChangedSinceItsPushStaysAndIsPushedAgain) {
  AddHint("n2", "a", "old");
  StartPushing();
  ASSERT_EQ(transport_.writes.size(), 1u);
  const Object merged = AddHint("n2", "a", OneValue("d.1", 1, "newer"), now_);
  transport_.Complete(0, absl::OkStatus());
  Tick();
  EXPECT_TRUE(HasHint("n2", "a"));
  ASSERT_EQ(transport_.writes.size(), 2u);
  EXPECT_EQ(FromProto(transport_.writes[1].request.object()).value(), merged);
  EXPECT_EQ(handoff_->stats().delivered, 0u);
}

TEST_F(HandoffTest, AFailedPushKeepsTheHintAndIsCounted) {
  AddHint("n2", "a", "v");
  StartPushing();
  ASSERT_EQ(transport_.writes.size(), 1u);
  transport_.Complete(0, absl::DeadlineExceededError("no answer"));
  Tick();
  EXPECT_TRUE(HasHint("n2", "a"));
  EXPECT_EQ(handoff_->stats().failed_pushes, 1u);
  EXPECT_EQ(handoff_->stats().delivered, 0u);
  EXPECT_THAT(transport_.Pushed(), ElementsAre("n2:a", "n2:a")) << "tried again";
}

TEST_F(HandoffTest, AtMostMaxInFlightPushesPerHome) {
  Restart(HandoffOptions{.max_in_flight = 2});
  AddHint("n2", "a", "v");
  AddHint("n2", "b", "v");
  AddHint("n2", "c", "v");
  AddHint("n3", "d", "v");
  StartPushing();
  Tick();
  EXPECT_THAT(transport_.Pushed(), ElementsAre("n2:a", "n2:b", "n3:d"));
  transport_.Complete(0, absl::OkStatus());
  Tick();
  EXPECT_THAT(transport_.Pushed(), ElementsAre("n2:a", "n2:b", "n3:d", "n2:c"));
}

TEST_F(HandoffTest, BytesPerSecondThrottlesPushes) {
  for (const std::string key : {"a", "b", "c", "d", "e"}) AddHint("n2", key, "v");
  const uint64_t hint_bytes = hints()->List("n2", 1).at(0).bytes;
  Restart(HandoffOptions{.bytes_per_second = hint_bytes});  // one hint a second
  Tick();
  const size_t first = transport_.writes.size();
  ASSERT_LE(first, 1u);
  Tick(absl::Milliseconds(500));
  EXPECT_EQ(transport_.writes.size(), first);
  Tick(absl::Milliseconds(500));
  EXPECT_EQ(transport_.writes.size(), first + 1);
  Tick(absl::Seconds(1));
  EXPECT_EQ(transport_.writes.size(), first + 2);
}

TEST_F(HandoffTest, HintsOlderThanMaxHintAgeAreDroppedAndCounted) {
  answering_.clear();
  detector_.OnNoAnswer("n2", kRefused, now_);  // nothing is pushed
  AddHint("n2", "old-key", OneValue("c.1", 1, "v"), now_ - absl::Hours(4));
  AddHint("n2", "young", OneValue("c.1", 1, "v"), now_ - absl::Hours(2));
  Tick();
  EXPECT_FALSE(HasHint("n2", "old-key"));
  EXPECT_TRUE(HasHint("n2", "young"));
  EXPECT_EQ(handoff_->stats().expired, 1u);
}

// Hints expiring by the hundred are one warning, with a count when the
// expiries stop, not a line per hint.
TEST_F(HandoffTest, ExpiredHintsAreLoggedOncePerEpisode) {
  answering_.clear();
  detector_.OnNoAnswer("n2", kRefused, now_);
  for (int i = 0; i < 40; ++i) {
    AddHint("n2", absl::StrCat("old-", i), OneValue("c.1", 1, "v"), now_ - absl::Hours(4));
  }
  std::vector<std::string> logged;
  SetLogSink([&](LogLevel, absl::string_view line) { logged.emplace_back(line); });
  Tick();
  Tick(absl::Minutes(2));  // a quiet minute and more: the episode ends
  SetLogSink(nullptr);
  EXPECT_EQ(handoff_->stats().expired, 40u);
  ASSERT_EQ(logged.size(), 2u) << absl::StrJoin(logged, "\n");
  EXPECT_THAT(logged[0], StartsWith("event=hint_expired episode=begin home=n2 partition="));
  EXPECT_EQ(logged[1], "event=hint_expired episode=end occurrences=40 lasted=0");
}

// The hint was created 4 h ago, but a write merged into it an hour ago:
// dropping it at max_hint_age (3 h) would drop that write with it.
TEST_F(HandoffTest, AHintHoldingAWriteYoungerThanMaxHintAgeIsKept) {
  answering_.clear();
  detector_.OnNoAnswer("n2", kRefused, now_);  // nothing is pushed
  AddHint("n2", "k", OneValue("c.1", 1, "old"), now_ - absl::Hours(4));
  AddHint("n2", "k", OneValue("c.1", 2, "new"), now_ - absl::Hours(1));
  Tick();
  EXPECT_TRUE(HasHint("n2", "k"));
  EXPECT_EQ(handoff_->stats().expired, 0u);
  Tick(absl::Hours(2) + absl::Minutes(1));  // now the newest write is past 3 h
  EXPECT_FALSE(HasHint("n2", "k"));
  EXPECT_EQ(handoff_->stats().expired, 1u);
}

// With tombstone purge on: a hint kept alive by new writes longer than the
// grace (less the replica timeout) is dropped, never delivered, however
// young its newest write: it may hold a value that was deleted, and whose
// tombstone was purged, since it was created.
TEST_F(HandoffTest, AHintCreatedLongerAgoThanMaxAgeSinceCreationIsDroppedNotDelivered) {
  Restart(HandoffOptions{.max_age_since_creation = absl::Hours(10)});
  AddHint("n2", "k", OneValue("c.1", 1, "deleted-since"), now_ - absl::Hours(11));
  AddHint("n2", "k", OneValue("c.1", 2, "new"), now_ - absl::Minutes(1));
  AddHint("n2", "young", OneValue("c.1", 1, "v"), now_ - absl::Hours(2));
  StartPushing();
  EXPECT_THAT(transport_.Pushed(), ElementsAre("n2:young"));
  EXPECT_FALSE(HasHint("n2", "k"));
  EXPECT_EQ(handoff_->stats().expired, 1u);
  EXPECT_THAT(store_.PartitionsMarkedForRepair().value(), ElementsAre(1u));  // "k"
}

// A read of a fallback's hints (HandleRead) drops the ones past either age
// limit instead of serving them: handoff would never deliver them.
TEST_F(HandoffTest, DropIfExpiredDropsAHintPastEitherLimitAndCountsIt) {
  Restart(HandoffOptions{.max_age_since_creation = absl::Hours(10)});
  AddHint("n2", "stale", OneValue("c.1", 1, "v"), now_ - absl::Hours(4));
  AddHint("n2", "kept-alive", OneValue("c.1", 1, "v"), now_ - absl::Hours(11));
  AddHint("n2", "kept-alive", OneValue("c.1", 2, "w"), now_ - absl::Minutes(1));
  AddHint("n2", "young", OneValue("c.1", 1, "v"), now_ - absl::Hours(1));
  EXPECT_TRUE(handoff_->DropIfExpired("n2", "stale", now_));
  EXPECT_TRUE(handoff_->DropIfExpired("n2", "kept-alive", now_));
  EXPECT_FALSE(handoff_->DropIfExpired("n2", "young", now_));
  EXPECT_FALSE(handoff_->DropIfExpired("n2", "absent", now_));
  EXPECT_FALSE(HasHint("n2", "stale"));
  EXPECT_FALSE(HasHint("n2", "kept-alive"));
  EXPECT_TRUE(HasHint("n2", "young"));
  EXPECT_EQ(handoff_->stats().expired, 2u);
}

// The count of dropped hints is the hints' (durable there: hint_store_test),
// not the manager's: a restarted manager does not forget that writes were
// dropped.
TEST_F(HandoffTest, TheCountOfExpiredHintsOutlivesTheManager) {
  answering_.clear();
  detector_.OnNoAnswer("n2", kRefused, now_);
  AddHint("n2", "old-key", OneValue("c.1", 1, "v"), now_ - absl::Hours(4));
  Tick();
  ASSERT_EQ(handoff_->stats().expired, 1u);
  Restart(HandoffOptions());
  EXPECT_EQ(handoff_->stats().expired, 1u);
}

TEST_F(HandoffTest, AnExpiredHintMarksItsPartitionForRepair) {
  AddHint("n2", "old-key", OneValue("c.1", 1, "v"), now_ - absl::Hours(4));
  AddHint("n2", "young", OneValue("c.1", 1, "v"), now_ - absl::Hours(2));
  Tick();
  EXPECT_THAT(store_.PartitionsMarkedForRepair().value(), ElementsAre(7u));  // "old-key"
}

TEST_F(HandoffTest, StatsCountDeliveriesAndTheirBytes) {
  AddHint("n2", "a", "v");
  AddHint("n3", "b", "vvvv");
  const uint64_t bytes = hints()->List("n2", 1).at(0).bytes + hints()->List("n3", 1).at(0).bytes;
  StartPushing();
  ASSERT_EQ(transport_.writes.size(), 2u);
  transport_.Complete(0, absl::OkStatus());
  transport_.Complete(1, absl::OkStatus());
  Tick();
  EXPECT_EQ(handoff_->stats().delivered, 2u);
  EXPECT_EQ(handoff_->stats().delivered_bytes, bytes);
  EXPECT_EQ(handoff_->stats().failed_pushes, 0u);
  EXPECT_EQ(handoff_->stats().expired, 0u);
}

}  // namespace
}  // namespace quorumkv
