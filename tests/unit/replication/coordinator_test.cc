// PutCoordinator and GetCoordinator as state machines, fed replies directly
// by the scripts in testdata/ (put_coordinator.txt, get_coordinator.txt,
// sloppy_coordinators.txt). Each block of a script is a command, "----",
// and what the coordinator shows after it, up to a blank line:
//
//   put w=N [r=N] [min-w=N] [sloppy] [down=n3,...]   a new put from n1, started
//   get r=N [min-w=N] [sloppy] [lww] [down=n2,...]   a new get at n1, started
//   reply NODE ok | none | value ACTOR COUNTER VALUE
//              | not-sent MESSAGE | deadline-exceeded MESSAGE [may-lack-writes]
//   deadline                                         the request's deadline passed
//   quorum | merged | request                        print the quorum info, the
//                                                    get's merge, the put's request
//
// Key "k"; home replicas n1 n2 n3, fallbacks n4 n5; `down` nodes are the
// ones the failure detector calls unhealthy; replies come 3 ms after the
// start. With QKV_REWRITE_TESTDATA=1 the scripts are rewritten with what the
// coordinators show (review the diff).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "replication/get_coordinator.h"
#include "replication/put_coordinator.h"
#include "replication/transport.h"
#include "tests/unit/test_support.h"

namespace quorumkv {
namespace {

using test_support::kStart;
using test_support::OneValue;

const absl::Time kReplyTime = kStart + absl::Milliseconds(3);
const PreferenceList kPreference = {.home = {"n1", "n2", "n3"}, .fallbacks = {"n4", "n5"}};

// One block of a script: where it starts, its command and what it expects.
struct Block {
  int line = 0;
  std::string command;
  std::string expected;
};

// The blocks of `text`, and the comment and blank lines before each, kept
// for a rewrite.
struct Script {
  std::vector<std::string> preambles;  // before each block
  std::vector<Block> blocks;
  std::string trailer;
};

Script ParseScript(const std::string& text) {
  Script script;
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  std::string preamble;
  size_t i = 0;
  while (i < lines.size()) {
    const std::string& line = lines[i];
    if (line.empty() || line[0] == '#') {
      if (i + 1 < lines.size() || !line.empty()) absl::StrAppend(&preamble, line, "\n");
      ++i;
      continue;
    }
    Block block{.line = static_cast<int>(i) + 1, .command = line};
    i += 2;  // the command and "----"
    while (i < lines.size() && !lines[i].empty())
      absl::StrAppend(&block.expected, lines[i++], "\n");
    script.preambles.push_back(std::move(preamble));
    preamble.clear();
    script.blocks.push_back(std::move(block));
  }
  script.trailer = preamble;
  return script;
}

// The arguments of a command: "key=value" and bare flags.
struct Args {
  explicit Args(const std::vector<std::string>& words) {
    for (size_t i = 1; i < words.size(); ++i) {
      const std::vector<std::string> kv = absl::StrSplit(words[i], absl::MaxSplits('=', 1));
      values[kv[0]] = kv.size() > 1 ? kv[1] : "";
    }
  }
  bool Has(const std::string& name) const { return values.count(name) > 0; }
  uint32_t Number(const std::string& name, uint32_t otherwise) const {
    uint32_t n = otherwise;
    if (Has(name)) {
      EXPECT_TRUE(absl::SimpleAtoi(values.at(name), &n)) << name;
    }
    return n;
  }
  QuorumSlots::Healthy Healthy() const {
    std::set<std::string> down;
    if (Has("down")) {
      for (absl::string_view node : absl::StrSplit(values.at("down"), ',')) down.emplace(node);
    }
    return [down](const std::string& node) { return down.count(node) == 0; };
  }
  std::map<std::string, std::string> values;
};

std::string Describe(const absl::Status& status) {
  if (status.ok()) return "OK";
  return absl::StrCat(absl::StatusCodeToString(status.code()), ": ", status.message());
}

std::string Sends(const std::vector<SlotSend>& sends) {
  std::string out;
  for (const SlotSend& s : sends) {
    absl::StrAppend(&out, "send ", s.to, s.hinted_for.empty() ? "" : " for ", s.hinted_for, "\n");
  }
  return out;
}

std::string Quorum(const pb::QuorumInfo& info) {
  std::vector<std::string> replied;
  for (const pb::ReplicaAnswer& a : info.replied()) {
    replied.push_back(absl::StrCat(a.node(), " (", a.latency_us(), " us)"));
  }
  std::string out = absl::StrCat("coordinator ", info.coordinator(), "\n");
  absl::StrAppend(&out, "replied ", absl::StrJoin(replied, " "), "\n");
  if (info.failed_size() > 0)
    absl::StrAppend(&out, "failed ", absl::StrJoin(info.failed(), " "), "\n");
  if (info.fallbacks_size() > 0) {
    absl::StrAppend(&out, "fallbacks ", absl::StrJoin(info.fallbacks(), " "), "\n");
  }
  absl::StrAppend(&out, "required ", info.required(), " of n=", info.n(),
                  info.sloppy() ? ", sloppy" : "", "\n");
  absl::StrAppend(&out, "strict_overlap ", info.strict_overlap() ? "yes" : "no");
  if (info.covers_w() > 0) absl::StrAppend(&out, ", covers_w ", info.covers_w());
  if (!info.overlap_note().empty()) absl::StrAppend(&out, ": ", info.overlap_note());
  if (info.has_staleness_bound_ms()) {
    absl::StrAppend(&out, "\nstaleness_bound ", info.staleness_bound_ms(), " ms");
  }
  return out + "\n";
}

// Runs the commands of a script against one coordinator at a time.
class ScriptRunner {
 public:
  std::string Run(const std::string& command) {
    const std::vector<std::string> words = absl::StrSplit(command, ' ', absl::SkipEmpty());
    const std::string& verb = words.at(0);
    const Args args(words);
    if (verb == "put") return StartPut(args);
    if (verb == "get") return StartGet(args);
    if (verb == "reply") return Reply(words);
    if (verb == "deadline") {
      if (put_) put_->OnDeadline();
      if (get_) get_->OnDeadline();
      return State();
    }
    if (verb == "quorum") return Quorum(put_ ? put_->quorum() : get_->quorum());
    if (verb == "merged" && get_) return Merged();
    if (verb == "request" && put_) return Request();
    ADD_FAILURE() << "unknown command: " << command;
    return "";
  }

 private:
  std::string StartPut(const Args& args) {
    get_.reset();
    put_.emplace(PutPlan{.key = "k",
                         .self = "n1",
                         .pref = kPreference,
                         .w = args.Number("w", 2),
                         .min_w = args.Number("min-w", 1),
                         .default_r = args.Number("r", 2),
                         .sloppy = args.Has("sloppy"),
                         .healthy = args.Healthy(),
                         .stored = OneValue("n1.1", 1, "v"),
                         .start = kStart});
    const std::string sends = Sends(put_->Start());
    return sends + State();
  }

  std::string StartGet(const Args& args) {
    put_.reset();
    get_.emplace(
        GetPlan{.key = "k",
                .self = "n1",
                .pref = kPreference,
                .r = args.Number("r", 2),
                .min_w = args.Number("min-w", 1),
                .policy = args.Has("lww") ? MergePolicy::kLastWriterWins : MergePolicy::kSiblings,
                .sloppy = args.Has("sloppy"),
                .healthy = args.Healthy(),
                .start = kStart});
    const std::string sends = Sends(get_->Start());
    return sends + State();
  }

  // "reply NODE ok|none|value A C V|not-sent M|deadline-exceeded M
  //  [may-lack-writes] [watermark-age=MS]"
  std::string Reply(std::vector<std::string> words) {
    ReplicaReadNotes notes;
    for (bool more = true; more;) {
      int64_t age_ms = 0;
      more = false;
      if (words.back() == "may-lack-writes") {
        notes.may_lack_writes = more = true;
      } else if (absl::string_view last = words.back();
                 absl::ConsumePrefix(&last, "watermark-age=") && absl::SimpleAtoi(last, &age_ms)) {
        notes.watermark_age = absl::Milliseconds(age_ms);
        more = true;
      }
      if (more) words.pop_back();
    }
    const std::string& from = words.at(1);
    const std::string& kind = words.at(2);
    const std::string message =
        absl::StrJoin(std::vector<std::string>(words.begin() + 3, words.end()), " ");
    absl::StatusOr<std::optional<Object>> reply = std::optional<Object>();
    if (kind == "value") {
      uint64_t counter = 0;
      EXPECT_TRUE(absl::SimpleAtoi(words.at(4), &counter));
      reply = std::optional<Object>(OneValue(words.at(3), counter, words.at(5)));
    } else if (kind == "not-sent") {
      reply = NotSentError(message);
    } else if (kind == "deadline-exceeded") {
      reply = absl::DeadlineExceededError(message);
    } else {
      EXPECT_TRUE(kind == "ok" || kind == "none") << "unknown reply: " << kind;
    }
    std::optional<SlotSend> next;
    if (put_) next = put_->OnReply(from, reply.status(), kReplyTime);
    if (get_) next = get_->OnReply(from, reply, kReplyTime, notes);
    return (next ? Sends({*next}) : "") + State();
  }

  std::string State() const {
    const bool decided = put_ ? put_->decided() : get_->decided();
    if (!decided) return "pending\n";
    return absl::StrCat("decided ", Describe(put_ ? put_->outcome() : get_->outcome()), "\n");
  }

  std::string Merged() const {
    std::string out;
    for (const Sibling& s : get_->merged().siblings) {
      absl::StrAppend(&out, "sibling ", s.dot.actor, ":", s.dot.counter, " ", s.value, "\n");
    }
    if (get_->merged().siblings.empty()) out = "nothing\n";
    const std::vector<std::string> stale = get_->StaleReplicas();
    if (!stale.empty()) absl::StrAppend(&out, "stale ", absl::StrJoin(stale, " "), "\n");
    return out;
  }

  std::string Request() const {
    const pb::ReplicaWriteRequest& r = put_->request();
    std::vector<std::string> values;
    for (const pb::Sibling& s : r.object().siblings()) values.push_back(s.value());
    return absl::StrCat("key ", r.key(), " from ", r.from(), " values ", absl::StrJoin(values, ","),
                        "\n");
  }

  std::optional<PutCoordinator> put_;
  std::optional<GetCoordinator> get_;
};

void RunScript(const std::string& name) {
  const std::string path = absl::StrCat(QKV_TESTDATA_DIR, "/", name);
  std::ifstream in(path);
  ASSERT_TRUE(in) << "cannot read " << path;
  std::stringstream text;
  text << in.rdbuf();
  Script script = ParseScript(text.str());
  ASSERT_FALSE(script.blocks.empty()) << path;
  const bool rewrite = std::getenv("QKV_REWRITE_TESTDATA") != nullptr;
  ScriptRunner runner;
  std::string rewritten;
  for (size_t i = 0; i < script.blocks.size(); ++i) {
    const Block& block = script.blocks[i];
    const std::string actual = runner.Run(block.command);
    if (!rewrite) {
      EXPECT_EQ(block.expected, actual) << path << ":" << block.line << ": " << block.command;
    }
    absl::StrAppend(&rewritten, script.preambles[i], block.command, "\n----\n", actual);
  }
  if (rewrite) std::ofstream(path) << rewritten << script.trailer;
}

TEST(CoordinatorScriptTest, PutCoordinator) { RunScript("put_coordinator.txt"); }
TEST(CoordinatorScriptTest, GetCoordinator) { RunScript("get_coordinator.txt"); }
TEST(CoordinatorScriptTest, SloppyCoordinators) { RunScript("sloppy_coordinators.txt"); }

// A sweep reads better as a loop: strict overlap holds exactly when the home
// replicas that answered plus min_w exceed N.
TEST(GetCoordinatorTest, StrictOverlapNeedsHomeRepliesPlusMinWAboveN) {
  for (uint32_t min_w = 1; min_w <= 3; ++min_w) {
    for (uint32_t answered = 1; answered <= 3; ++answered) {
      GetCoordinator get(GetPlan{
          .key = "k", .self = "n1", .pref = kPreference, .r = 3, .min_w = min_w, .start = kStart});
      const std::vector<std::string> homes = {"n1", "n2", "n3"};
      for (uint32_t i = 0; i < answered; ++i) {
        get.OnReply(homes[i], std::optional<Object>(), kReplyTime);
      }
      const pb::QuorumInfo info = get.quorum();
      EXPECT_EQ(info.strict_overlap(), answered + min_w > 3)
          << "answered=" << answered << " min_w=" << min_w;
      EXPECT_EQ(info.covers_w(), 3 - answered + 1);
    }
  }
}

}  // namespace
}  // namespace quorumkv
