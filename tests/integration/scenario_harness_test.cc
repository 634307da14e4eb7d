// kvharness run's parts around the checker: history files, scenario files,
// the nemesis, the report (rendered in headless Chromium), and one run end
// to end, with a mutation the checks must catch.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "tests/integration/command.h"
#include "tools/kvharness/history.h"
#include "tools/kvharness/nemesis.h"
#include "tools/kvharness/report.h"
#include "tools/kvharness/scenario.h"

namespace quorumkv {
namespace {

using testing::CommandResult;

std::string TempPath(const std::string& name) {
  return (std::filesystem::path(::testing::TempDir()) / absl::StrCat("qkv-", name, "-", getpid()))
      .string();
}

TEST(ScenarioHistory, WhatIsRecordedReadsBackTheSame) {
  const std::string path = TempPath("history.jsonl");
  {
    auto recorder = HistoryRecorder::Create(path);
    ASSERT_TRUE(recorder.ok());
    Operation w{.client = 1, .kind = OpKind::kWrite, .key = "k", .value = "c1-1", .node = "n2"};
    w.context.Add(Dot{"n1.a", 3});
    w.id = (*recorder)->Invoke(w);
    w.outcome = Outcome::kOk;
    w.dot = Dot{"n2.b", 4};
    w.quorum = SeenQuorum{
        .coordinator = "n2", .replied = {"n2", "n4"}, .fallbacks = {"n4"}, .home_acks = 1};
    (*recorder)->Complete(w);
    (*recorder)->Nemesis("kill n3", "");
    Operation r{.client = -1, .kind = OpKind::kRead, .key = "k", .node = "any"};
    r.id = (*recorder)->Invoke(r);
    r.outcome = Outcome::kOk;
    r.found = true;
    r.siblings = {SeenSibling{"c1-1", false, Dot{"n2.b", 4}}};
    r.read_context.Add(Dot{"n2.b", 4});
    r.quorum = SeenQuorum{.strict_overlap = true, .covers_w = 1};
    (*recorder)->Complete(r);
    (*recorder)->FinalHeal();
  }
  absl::StatusOr<History> h = ReadHistory(path);
  ASSERT_TRUE(h.ok()) << h.status();
  ASSERT_EQ(h->operations.size(), 2u);
  const Operation& w = h->operations[0];
  EXPECT_EQ(w.value, "c1-1");
  EXPECT_EQ(w.context.Get("n1.a"), 3u);
  EXPECT_EQ(w.outcome, Outcome::kOk);
  EXPECT_EQ(*w.dot, (Dot{"n2.b", 4}));
  EXPECT_EQ(w.quorum->fallbacks, std::vector<std::string>{"n4"});
  const Operation& r = h->operations[1];
  EXPECT_EQ(r.client, -1);
  ASSERT_EQ(r.siblings.size(), 1u);
  EXPECT_EQ(r.siblings[0].dot, (Dot{"n2.b", 4}));
  EXPECT_TRUE(r.quorum->strict_overlap);
  ASSERT_EQ(h->nemesis.size(), 1u);
  EXPECT_EQ(h->nemesis[0].command, "kill n3");
  EXPECT_GE(h->heal_us, 0);
  std::filesystem::remove(path);
}

TEST(ScenarioHistory, ABrokenLineIsNamed) {
  const std::string path = TempPath("broken.jsonl");
  std::ofstream(path) << "{\"type\":\"heal\",\"time_us\":1}\nnot json\n";
  absl::StatusOr<History> h = ReadHistory(path);
  EXPECT_EQ(h.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(h.status().message().find(":2: not a history event"), std::string::npos) << h.status();
  std::filesystem::remove(path);
}

TEST(ScenarioFile, DefaultsAreFilledAndLimitsNamed) {
  absl::StatusOr<v1::Scenario> s = ParseScenario("name: \"x\"");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->nodes(), 3u);
  EXPECT_EQ(s->workload().clients(), 3u);
  EXPECT_EQ(s->duration_ms(), 5000u);
  EXPECT_NE(ParseScenario("nodes: 12").status().message().find("above the limit of 9"),
            std::string::npos);
  EXPECT_NE(ParseScenario("nodes: 3 replicas: 4").status().message().find("more than nodes"),
            std::string::npos);
  EXPECT_NE(ParseScenario("nodes: 3\nbogus: 1").status().message().find("line 2"),
            std::string::npos);
  EXPECT_NE(ParseScenario("nemesis { command: \"kill n4\" }").status().message().find("no node n4"),
            std::string::npos);
  EXPECT_NE(ParseScenario("duration_ms: 100 nemesis { at_ms: 200 command: \"heal\" }")
                .status()
                .message()
                .find("after the workload ends"),
            std::string::npos);
  // One fault a millisecond would schedule 1.2 million over 600 s.
  EXPECT_EQ(ParseScenario("duration_ms: 600000 random_nemesis { interval_ms: 1 kinds: \"kill\" }")
                .status()
                .message(),
            "scenario: random_nemesis.interval_ms 1 is below the least of 100 (0: none)");
  // 2863311531 + 2863311531 / 2 wrapped past 2^32 to 0 in 32 bits: a fault
  // at 33 days, its undo at 0.
  EXPECT_EQ(ParseScenario("random_nemesis { interval_ms: 2863311531 kinds: \"kill\" }")
                .status()
                .message(),
            "scenario: random_nemesis.interval_ms 2863311531 is longer than duration_ms 5000");
  EXPECT_NE(ParseScenario("random_nemesis { interval_ms: 100 kinds: \"meteor\" }")
                .status()
                .message()
                .find("meteor"),
            std::string::npos);
}

TEST(ScenarioNemesis, CommandsAreValidated) {
  for (const char* good :
       {"partition n1,n2 / n3", "isolate n2", "heal", "delay n1->n2 100",
        "delay '*'->n2 5 --jitter 3", "drop client->n1", "reset n3->n1", "kill n1", "restart n1",
        "pause n2", "resume n2", "disk-full n3 on", "skew n1 -5000"}) {
    if (std::string(good).find('\'') != std::string::npos) continue;  // shell quoting only
    EXPECT_TRUE(ValidateNemesisCommand(good, 3).ok()) << good;
  }
  for (const char* bad : {"", "partition n1 n2", "kill", "kill n9", "delay n1->n2", "drop n1",
                          "disk-full n1 maybe", "skew n1 fast", "explode n1"}) {
    EXPECT_EQ(ValidateNemesisCommand(bad, 3).code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ScenarioNemesis, ARandomScheduleIsTheSameForTheSameSeed) {
  absl::StatusOr<v1::Scenario> s = ParseScenario(
      "nodes: 5 duration_ms: 10000 random_nemesis { interval_ms: 1000 kinds: \"partition\" "
      "kinds: \"kill\" kinds: \"delay\" } nemesis { at_ms: 50 command: \"isolate n1\" }");
  ASSERT_TRUE(s.ok()) << s.status();
  auto text = [](const std::vector<v1::NemesisEvent>& events) {
    std::string out;
    for (const auto& e : events) absl::StrAppend(&out, e.at_ms(), " ", e.command(), "\n");
    return out;
  };
  const std::string a = text(NemesisSchedule(*s, 7));
  EXPECT_EQ(a, text(NemesisSchedule(*s, 7)));
  EXPECT_NE(a, text(NemesisSchedule(*s, 8)));
  EXPECT_EQ(a.substr(0, a.find('\n')), "50 isolate n1");
  for (const auto& e : NemesisSchedule(*s, 7)) {
    EXPECT_TRUE(ValidateNemesisCommand(e.command(), 5).ok()) << e.command();
  }
}

TEST(ScenarioReport, FaultWindowsRunFromTheFaultToWhatUndoesIt) {
  History h;
  h.nemesis = {{1000, "kill n1", ""},
               {2000, "partition n2 / n3", ""},
               {3000, "heal", ""},
               {4000, "restart n1", ""},
               {5000, "disk-full n2 on", ""},
               {5500, "isolate n9", "no node n9"}};
  h.heal_us = 6000;
  std::vector<std::string> windows;
  for (const FaultWindow& w : FaultWindows(h, {"n1", "n2", "n3"})) {
    windows.push_back(absl::StrCat(w.node, " ", w.command, " ", w.start_us, "..", w.end_us));
  }
  EXPECT_EQ(windows, (std::vector<std::string>{
                         "n2 partition n2 / n3 2000..3000", "n3 partition n2 / n3 2000..3000",
                         "n1 kill n1 1000..4000", "n2 disk-full n2 on 5000..6000"}));
}

// A report of a small run with one violated check.
ReportInput SmallRun() {
  ReportInput in;
  in.scenario.set_name("tiny </script><b>");
  in.scenario.set_description("two writes, one lost");
  in.scenario.mutable_workload()->set_clients(2);
  in.seed = 42;
  in.nodes = {"n1", "n2", "n3"};
  for (int i = 0; i < 6; ++i) {
    Operation op{.id = i,
                 .client = i % 2,
                 .kind = i % 3 ? OpKind::kRead : OpKind::kWrite,
                 .key = "k",
                 .value = absl::StrCat("c", i % 2, "-", i),
                 .node = "n1"};
    op.invoke_us = i * 100'000;
    op.complete_us = op.invoke_us + 40'000;
    op.outcome = i == 4 ? Outcome::kInfo : Outcome::kOk;
    in.history.operations.push_back(op);
  }
  in.history.nemesis = {{150'000, "partition n1 / n2,n3", ""}, {350'000, "heal", ""}};
  in.history.heal_us = 600'000;
  in.history.end_us = 700'000;
  in.checks = {CheckResult{.name = "acked-writes-survive",
                           .passed = false,
                           .summary = "1 lost",
                           .problems = {"op 3 lost"},
                           .ops = {3, 5}},
               CheckResult{.name = "converged", .summary = "yes"}};
  return in;
}

TEST(ScenarioReport, TheReportRendersInHeadlessChromiumWithoutScriptErrors) {
  const std::string dir = TempPath("report");
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/report.html";
  ASSERT_TRUE(WriteReport(path, SmallRun()).ok());
  // chromium prints the DOM after scripts ran; the script marks the body
  // with the number of operations it drew, and errors go to the log.
  CommandResult r =
      testing::RunCommand({"/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu",
                           "--enable-logging=stderr", "--user-data-dir=" + dir + "/profile",
                           "--dump-dom", "file://" + path},
                          absl::Seconds(60));
  ASSERT_EQ(r.exit_code, 0) << "is chromium installed (scripts/setup.sh)?\n" << r.err;
  EXPECT_NE(r.out.find("data-rendered=\"6\""), std::string::npos) << r.out.substr(0, 2000);
  EXPECT_EQ(r.err.find("Uncaught"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("1 passed, 1 failed"), std::string::npos);
  EXPECT_NE(r.out.find("id=\"op-3\""), std::string::npos);
  EXPECT_NE(r.out.find("op violation"), std::string::npos);  // the lost write is outlined
  // The run's text never becomes markup, nor ends the script early.
  EXPECT_NE(r.out.find("Scenario tiny &lt;/script&gt;&lt;b&gt;</h1>"), std::string::npos);
  std::filesystem::remove_all(dir);
}

// A short scenario run end to end: it passes as written, and with every key
// last-writer-wins (the mutation) the siblings checks catch the lost writes.
class ScenarioRun : public ::testing::Test {
 protected:
  CommandResult Run(const std::string& name, const std::string& extra) {
    dir_ = TempPath(name);
    std::filesystem::create_directories(dir_);
    const std::string file = dir_ + "/scenario.textproto";
    std::ofstream(file) << "name: \"" << name << "\" seed: 5 duration_ms: 2000 " << extra
                        << " workload { clients: 3 keys: 2 read_weight: 0.4 write_weight: 0.6 "
                           "think_ms: 5 }";
    return testing::RunCommand(
        {testing::BinDir() + "/kvharness", "--dir", dir_ + "/cluster", "run", file},
        absl::Seconds(120));
  }
  void TearDown() override {
    testing::RunCommand({testing::BinDir() + "/kvharness", "--dir", dir_ + "/cluster", "down"});
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }
  std::string dir_;
};

TEST_F(ScenarioRun, AnHonestRunPassesAndWritesItsHistoryAndReport) {
  CommandResult r = Run("honest",
                        "nemesis { at_ms: 500 command: \"isolate n2\" } "
                        "nemesis { at_ms: 1200 command: \"heal\" }");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("9 passed, 0 failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("nemesis: isolate n2"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/cluster/history.jsonl"));
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/cluster/report.html"));
}

TEST_F(ScenarioRun, MutationEveryKeyLastWriterWinsIsCaughtAsLostWrites) {
  CommandResult r = Run("mutation", "cluster_lww: true");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("FAIL acked-writes-survive"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("FAIL siblings-kept"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace quorumkv
