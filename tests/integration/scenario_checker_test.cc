// The checks of kvharness run (tools/kvharness/checker.h) on histories
// written by hand: each check passes an honest history and fails the
// violation it exists for.
#include <gtest/gtest.h>

#include <map>

#include "tools/kvharness/checker.h"

namespace quorumkv {
namespace {

Dot D(const std::string& actor, uint64_t counter) { return Dot{actor, counter}; }

VersionVector Vv(std::vector<Dot> dots) {
  VersionVector vv;
  for (const Dot& d : dots) vv.Add(d);
  return vv;
}

// Builds a history, one operation at a time, each 1 ms after the last.
class HistoryBuilder {
 public:
  int64_t Write(const std::string& key, const std::string& value, std::optional<Dot> dot,
                VersionVector context = {}, Outcome outcome = Outcome::kOk,
                uint32_t home_acks = 2) {
    Operation op = Next(OpKind::kWrite, key);
    op.value = value;
    op.dot = outcome == Outcome::kOk ? dot : std::nullopt;
    op.context = std::move(context);
    op.outcome = outcome;
    op.quorum = SeenQuorum{.home_acks = home_acks};
    return Add(std::move(op));
  }
  int64_t Read(const std::string& key, std::vector<SeenSibling> seen, VersionVector context,
               bool strict = false, uint32_t covers_w = 0) {
    Operation op = Next(OpKind::kRead, key);
    op.found = false;
    for (const SeenSibling& s : seen) op.found |= !s.tombstone;
    op.siblings = std::move(seen);
    op.read_context = std::move(context);
    op.outcome = Outcome::kOk;
    op.quorum = SeenQuorum{.strict_overlap = strict, .covers_w = covers_w};
    return Add(std::move(op));
  }
  // The harness's final read: the key's final state.
  int64_t Final(const std::string& key, std::vector<SeenSibling> seen, VersionVector context) {
    const int client = client_;
    client_ = -1;
    const int64_t id = Read(key, std::move(seen), std::move(context), /*strict=*/true, 1);
    client_ = client;
    return id;
  }
  // The client of the operations that follow (0 until set).
  void As(int client) { client_ = client; }
  History& history() { return history_; }

 private:
  Operation Next(OpKind kind, const std::string& key) {
    Operation op{.id = static_cast<int64_t>(history_.operations.size()),
                 .client = client_,
                 .kind = kind,
                 .key = key};
    op.invoke_us = now_us_;
    op.complete_us = now_us_ + 500;
    now_us_ += 1000;
    return op;
  }
  int64_t Add(Operation op) {
    history_.operations.push_back(std::move(op));
    return history_.operations.back().id;
  }

  History history_;
  int64_t now_us_ = 0;
  int client_ = 0;
};

SeenSibling S(const std::string& value, Dot dot) {
  return SeenSibling{value, false, std::move(dot)};
}

CheckOptions Options(bool lww = false) {
  return CheckOptions{.lww = lww,
                      .convergence = {.reached = true, .took_us = 1000, .bound_us = 30'000'000},
                      .min_acked_writes = 1,
                      .min_ok_reads = 0};
}

std::map<std::string, CheckResult> Check(const History& h,
                                         const CheckOptions& options = Options()) {
  std::map<std::string, CheckResult> by_name;
  for (CheckResult& r : CheckHistory(h, options)) by_name[r.name] = std::move(r);
  return by_name;
}

std::vector<std::string> Failed(const std::map<std::string, CheckResult>& results) {
  std::vector<std::string> failed;
  for (const auto& [name, r] : results) {
    if (!r.passed) failed.push_back(name);
  }
  return failed;
}

TEST(ScenarioChecker, AnHonestHistoryPassesEveryCheck) {
  HistoryBuilder b;
  b.Write("k", "a", D("n1", 1));
  b.Read("k", {S("a", D("n1", 1))}, Vv({D("n1", 1)}), /*strict=*/true);
  b.Write("k", "b", D("n2", 1), Vv({D("n1", 1)}));  // read a, replaces it
  b.Write("j", "x", D("n1", 2));
  b.Write("j", "y", D("n2", 2));  // concurrent with x: siblings
  b.Final("k", {S("b", D("n2", 1))}, Vv({D("n1", 1), D("n2", 1)}));
  b.Final("j", {S("x", D("n1", 2)), S("y", D("n2", 2))}, Vv({D("n1", 2), D("n2", 2)}));
  const auto results = Check(b.history());
  EXPECT_EQ(results.size(), 9u);
  EXPECT_TRUE(Failed(results).empty()) << Failed(results).front();
  EXPECT_NE(results.at("siblings-kept").summary.find("1 keys ended with concurrent"),
            std::string::npos);
}

TEST(ScenarioChecker, AnAcknowledgedWriteMissingFromTheFinalStateFails) {
  HistoryBuilder b;
  const int64_t a = b.Write("k", "a", D("n1", 1));
  const int64_t last = b.Final("k", {}, Vv({D("n1", 1)}));
  const auto results = Check(b.history());
  EXPECT_EQ(Failed(results), std::vector<std::string>{"acked-writes-survive"});
  EXPECT_EQ(results.at("acked-writes-survive").ops, (std::vector<int64_t>{a, last}));
  EXPECT_NE(results.at("acked-writes-survive").problems[0].find("write 'a'"), std::string::npos);
}

TEST(ScenarioChecker, AWriteOfUnknownOutcomeThatReadTheValueMayHaveReplacedIt) {
  HistoryBuilder b;
  b.Write("k", "a", D("n1", 1));
  b.Write("k", "b", std::nullopt, Vv({D("n1", 1)}), Outcome::kInfo);
  b.Final("k", {}, Vv({D("n1", 1), D("n2", 1)}));
  EXPECT_TRUE(Failed(Check(b.history())).empty());
}

// What a store that keeps one value but merges the clocks of concurrent
// writes (last-writer-wins) shows: client 1's read covers 'a' without
// returning it, and its next write's context covers 'a' too. Nobody read
// 'a': it was lost, not replaced, and it was concurrent with 'c'.
TEST(ScenarioChecker, AContextCoveringAValueNoReadLeadsFromReplacesNothing) {
  HistoryBuilder b;
  const int64_t a = b.Write("k", "a", D("n1", 1));
  b.As(1);
  b.Write("k", "c", D("n2", 1));  // blind, concurrent with a
  b.Read("k", {S("c", D("n2", 1))}, Vv({D("n1", 1), D("n2", 1)}));
  b.Write("k", "d", D("n2", 2), Vv({D("n1", 1), D("n2", 1)}));
  b.Final("k", {S("d", D("n2", 2))}, Vv({D("n1", 1), D("n2", 2)}));
  const auto results = Check(b.history());
  ASSERT_EQ(Failed(results), (std::vector<std::string>{"acked-writes-survive", "siblings-kept"}));
  EXPECT_EQ(results.at("acked-writes-survive").ops.front(), a);
}

// Read through another client's write: 'b' replaced 'a' (its writer read
// it); client 1 read only 'b', and its write replaces both.
TEST(ScenarioChecker, AValueReadThroughTheWriteThatReplacedItIsReplaced) {
  HistoryBuilder b;
  b.Write("k", "a", D("n1", 1));
  b.Read("k", {S("a", D("n1", 1))}, Vv({D("n1", 1)}));
  b.Write("k", "b", D("n1", 2), Vv({D("n1", 1)}));
  b.As(1);
  b.Read("k", {S("b", D("n1", 2))}, Vv({D("n1", 2)}));
  b.Write("k", "c", D("n2", 1), Vv({D("n1", 2)}));
  b.Final("k", {S("c", D("n2", 1))}, Vv({D("n1", 2), D("n2", 1)}));
  const auto results = Check(b.history());
  EXPECT_TRUE(Failed(results).empty()) << Failed(results).front();
  EXPECT_NE(results.at("acked-writes-survive").summary.find("2 replaced by a write that read them"),
            std::string::npos)
      << results.at("acked-writes-survive").summary;
}

TEST(ScenarioChecker, AFailedWriteReplacesNothing) {
  HistoryBuilder b;
  b.Write("k", "a", D("n1", 1));
  b.Write("k", "b", std::nullopt, Vv({D("n1", 1)}), Outcome::kFail);
  b.Final("k", {}, Vv({D("n1", 1)}));
  EXPECT_EQ(Failed(Check(b.history())), std::vector<std::string>{"acked-writes-survive"});
}

TEST(ScenarioChecker, ConcurrentWritesMustAllBeKeptAsSiblings) {
  HistoryBuilder b;
  b.Write("k", "a", D("n1", 1));
  b.Write("k", "b", D("n2", 1));
  b.Final("k", {S("b", D("n2", 1))}, Vv({D("n1", 1), D("n2", 1)}));
  EXPECT_EQ(Failed(Check(b.history())),
            (std::vector<std::string>{"acked-writes-survive", "siblings-kept"}));
}

TEST(ScenarioChecker, LastWriterWinsLossesAreCountedNotFailed) {
  HistoryBuilder b;
  const int64_t a = b.Write("lww/k", "a", D("n1", 1));
  b.Write("lww/k", "b", D("n2", 1));
  b.Final("lww/k", {S("b", D("n2", 1))}, Vv({D("n1", 1), D("n2", 1)}));
  const auto results = Check(b.history(), Options(/*lww=*/true));
  EXPECT_TRUE(Failed(results).empty());
  const CheckResult& losses = results.at("lww-losses-counted");
  EXPECT_NE(losses.summary.find("1 lost to last-writer-wins"), std::string::npos) << losses.summary;
  EXPECT_EQ(losses.ops.front(), a);
}

TEST(ScenarioChecker, AReplacedValueThatComesBackFails) {
  HistoryBuilder b;
  b.Write("k", "a", D("n1", 1));
  const int64_t replacer = b.Write("k", "b", D("n2", 1), Vv({D("n1", 1)}));
  b.Final("k", {S("a", D("n1", 1)), S("b", D("n2", 1))}, Vv({D("n1", 1), D("n2", 1)}));
  const auto results = Check(b.history());
  EXPECT_EQ(Failed(results), std::vector<std::string>{"superseded-stay-gone"});
  EXPECT_EQ(results.at("superseded-stay-gone").ops.front(), replacer);
}

TEST(ScenarioChecker, AValueNoWriteWroteFails) {
  HistoryBuilder b;
  b.Write("k", "a", D("n1", 1));
  b.Final("k", {S("a", D("n1", 1)), S("ghost", D("n3", 9))}, Vv({D("n1", 1), D("n3", 9)}));
  EXPECT_EQ(Failed(Check(b.history())), std::vector<std::string>{"no-phantom-values"});
}

TEST(ScenarioChecker, AValueReadWithAnotherDotThanItsWriteWasAcknowledgedWithFails) {
  HistoryBuilder b;
  b.Write("k", "a", D("n1", 1));
  b.Final("k", {S("a", D("n1", 2))}, Vv({D("n1", 2)}));
  const auto failed = Failed(Check(b.history()));
  EXPECT_NE(std::find(failed.begin(), failed.end(), "no-phantom-values"), failed.end());
}

TEST(ScenarioChecker, ACopyOfARetriedWriteIsThatWrite) {
  // Sent twice with one idempotency key: n1 applied it (the answer was
  // lost), n2 applied it again and acknowledged; a read shows n1's copy.
  HistoryBuilder b;
  const int64_t a = b.Write("k", "a", D("n2", 1));
  b.history().operations[a].idempotency_key = "c0-op1";
  SeenSibling copy = S("a", D("n1", 1));
  copy.idempotency_key = "c0-op1";
  b.Final("k", {copy}, Vv({D("n1", 1), D("n2", 1)}));
  EXPECT_TRUE(Failed(Check(b.history())).empty()) << Failed(Check(b.history())).front();
  // The same value under another dot and no shared key is still a phantom.
  b.history().operations.back().siblings[0].idempotency_key = "c0-op9";
  const auto failed = Failed(Check(b.history()));
  EXPECT_NE(std::find(failed.begin(), failed.end(), "no-phantom-values"), failed.end());
}

TEST(ScenarioChecker, ASessionReadMissingItsSessionsWriteFails) {
  HistoryBuilder b;
  const int64_t a = b.Write("k", "a", D("n1", 1));
  b.history().operations[a].session = true;
  const int64_t other = b.Read("k", {}, {});  // not in a session: may miss it
  const int64_t read = b.Read("k", {}, {});
  b.history().operations[read].session = true;
  b.history().operations[read].session_reads = 3;
  b.Final("k", {S("a", D("n1", 1))}, Vv({D("n1", 1)}));
  const auto results = Check(b.history());
  EXPECT_EQ(Failed(results), std::vector<std::string>{"session-guarantees"});
  EXPECT_EQ(results.at("session-guarantees").ops, (std::vector<int64_t>{a, read}));
  EXPECT_NE(results.at("session-guarantees").summary.find("1 session reads (1 escalated"),
            std::string::npos)
      << results.at("session-guarantees").summary;
  (void)other;
}

TEST(ScenarioChecker, ASessionReadOlderThanOneItAlreadySawFails) {
  HistoryBuilder b;
  b.As(1);
  b.Write("k", "a", D("n1", 1));  // another client's write
  b.As(0);
  const int64_t first = b.Read("k", {S("a", D("n1", 1))}, Vv({D("n1", 1)}));
  const int64_t second = b.Read("k", {}, {});
  for (int64_t id : {first, second}) b.history().operations[id].session = true;
  b.Final("k", {S("a", D("n1", 1))}, Vv({D("n1", 1)}));
  const auto results = Check(b.history());
  EXPECT_EQ(Failed(results), std::vector<std::string>{"session-guarantees"});
  EXPECT_NE(results.at("session-guarantees").problems[0].find("older than its session's"),
            std::string::npos);
}

TEST(ScenarioChecker, AReadUnderstatingItsStalenessFails) {
  HistoryBuilder b;
  const int64_t a = b.Write("k", "a", D("n1", 1));
  const int64_t read = b.Read("k", {}, {});  // no strict overlap, yet bound 0
  b.history().operations[read].quorum->staleness_bound_ms = 0;
  b.Final("k", {S("a", D("n1", 1))}, Vv({D("n1", 1)}));
  const auto results = Check(b.history());
  EXPECT_EQ(Failed(results), std::vector<std::string>{"staleness-bounds-honest"});
  EXPECT_EQ(results.at("staleness-bounds-honest").ops, (std::vector<int64_t>{a, read}));
  // A bound longer than the time since the write claims nothing of it.
  b.history().operations[read].quorum->staleness_bound_ms = 60'000;
  EXPECT_TRUE(Failed(Check(b.history())).empty());
}

TEST(ScenarioChecker, AStrictReadMissingAnEarlierAcknowledgedWriteFails) {
  HistoryBuilder b;
  const int64_t a = b.Write("k", "a", D("n1", 1));
  const int64_t read = b.Read("k", {}, {}, /*strict=*/true);  // found:false
  b.Final("k", {S("a", D("n1", 1))}, Vv({D("n1", 1)}));
  const auto results = Check(b.history());
  EXPECT_EQ(Failed(results), std::vector<std::string>{"strict-reads-honest"});
  EXPECT_EQ(results.at("strict-reads-honest").ops, (std::vector<int64_t>{read, a}));
  EXPECT_NE(results.at("strict-reads-honest").problems[0].find("found:false"), std::string::npos);
}

TEST(ScenarioChecker, ANonStrictReadMayMissAWrite) {
  HistoryBuilder b;
  b.Write("k", "a", D("n1", 1));
  b.Read("k", {}, {}, /*strict=*/false);
  b.Final("k", {S("a", D("n1", 1))}, Vv({D("n1", 1)}));
  EXPECT_TRUE(Failed(Check(b.history())).empty());
}

TEST(ScenarioChecker, AReadClaimingCoversWMustReflectWritesOnThatManyHomeReplicas) {
  HistoryBuilder b;
  b.Write("k", "a", D("n1", 1), {}, Outcome::kOk, /*home_acks=*/1);
  b.Read("k", {}, {}, /*strict=*/false, /*covers_w=*/2);  // a is on 1 home: may be missed
  b.Write("k", "b", D("n1", 2), {}, Outcome::kOk, /*home_acks=*/2);
  b.Read("k", {S("a", D("n1", 1))}, Vv({D("n1", 1)}), false, 2);  // misses b: on 2 homes
  b.Final("k", {S("a", D("n1", 1)), S("b", D("n1", 2))}, Vv({D("n1", 2)}));
  EXPECT_EQ(Failed(Check(b.history())), std::vector<std::string>{"strict-reads-honest"});
}

TEST(ScenarioChecker, AReadNeedNotReflectAWriteThatEndedAfterItBegan) {
  HistoryBuilder b;
  const int64_t read = b.Read("k", {}, {}, /*strict=*/true);
  const int64_t a = b.Write("k", "a", D("n1", 1));
  b.history().operations[a].invoke_us = 0;  // began before the read, ended after it began
  b.history().operations[read].complete_us = 5000;
  b.Final("k", {S("a", D("n1", 1))}, Vv({D("n1", 1)}));
  EXPECT_TRUE(Failed(Check(b.history())).empty());
}

TEST(ScenarioChecker, NoConvergenceAndTooFewOperationsFail) {
  HistoryBuilder b;
  b.Read("k", {}, {});
  CheckOptions options = Options();
  options.convergence = {.reached = false, .bound_us = 1000, .detail = "n2 holds 3 hints"};
  const auto results = Check(b.history(), options);
  EXPECT_EQ(Failed(results), (std::vector<std::string>{"converged", "enough-operations"}));
  EXPECT_NE(results.at("converged").problems[0].find("n2 holds 3 hints"), std::string::npos);
}

}  // namespace
}  // namespace quorumkv
