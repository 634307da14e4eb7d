// The node log's line format (logging.h) and its once-per-episode lines
// (log_episode.h).
#include "replication/logging.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "replication/log_episode.h"

namespace quorumkv {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr absl::Time kEpisodeStart = absl::FromUnixSeconds(1'700'000'000);

// Captures the lines logged while it lives.
class CapturedLog {
 public:
  CapturedLog() {
    SetLogSink([this](LogLevel level, absl::string_view line) {
      lines_.push_back(absl::StrCat(LogLevelName(level), " ", line));
    });
  }
  ~CapturedLog() {
    SetLogSink(nullptr);
    SetMinLogLevel(LogLevel::kInfo);
  }
  const std::vector<std::string>& lines() const { return lines_; }

 private:
  std::vector<std::string> lines_;
};

TEST(LogLineTest, FieldsAreKeyEqualsValueQuotedOnlyWhenNeeded) {
  EXPECT_EQ(FormatLogLine("hint_expired", {{"home", "n3"}, {"partition", 17}, {"rate", 0.5}}),
            "event=hint_expired home=n3 partition=17 rate=0.5");
  EXPECT_EQ(FormatLogLine("e", {{"why", "older than 3h"}, {"empty", ""}}),
            "event=e why=\"older than 3h\" empty=\"\"");
  EXPECT_EQ(FormatLogLine("e", {{"error", "a \"b\" c=d\\e\nf"}}),
            "event=e error=\"a \\\"b\\\" c=d\\\\e\\nf\"");
}

TEST(LogLineTest, LevelsParseFromTheirNamesAndFilter) {
  EXPECT_EQ(ParseLogLevel("warn").value(), LogLevel::kWarning);
  EXPECT_EQ(ParseLogLevel("loud").status().message(),
            "log level 'loud' is not one of debug, info, warn, error");
  CapturedLog log;
  SetMinLogLevel(LogLevel::kWarning);
  LogEvent(LogLevel::kInfo, "quiet", {});
  LogEvent(LogLevel::kError, "loud", {{"k", 1}});
  EXPECT_THAT(log.lines(), ElementsAre("error event=loud k=1"));
}

TEST(LogEpisodeTest, ManyOccurrencesAreOneLineAndTheEndCountsThem) {
  CapturedLog log;
  LogEpisode episode(LogLevel::kWarning, "shedding", absl::Seconds(10));
  absl::Time now = kEpisodeStart;
  for (int i = 0; i < 1000; ++i) {
    episode.Occurred(now, {{"bound", "client_bytes"}, {"i", i}});
    now += absl::Milliseconds(5);
  }
  EXPECT_TRUE(episode.open());
  episode.End(now);
  EXPECT_FALSE(episode.open());
  EXPECT_THAT(log.lines(),
              ElementsAre("warn event=shedding episode=begin bound=client_bytes i=0",
                          "warn event=shedding episode=end occurrences=1000 lasted=5s"));
}

TEST(LogEpisodeTest, AQuietSpellEndsTheEpisodeAndTheNextOccurrenceBeginsAnother) {
  CapturedLog log;
  LogEpisode episode(LogLevel::kWarning, "hint_expired", absl::Minutes(1));
  episode.Occurred(kEpisodeStart, {{"home", "n2"}});
  episode.Occurred(kEpisodeStart + absl::Seconds(30), {{"home", "n3"}});
  episode.EndIfQuiet(kEpisodeStart + absl::Seconds(80));  // 50 s after the last: still open
  EXPECT_TRUE(episode.open());
  episode.Occurred(kEpisodeStart + absl::Seconds(200), {{"home", "n4"}});  // 170 s quiet
  episode.EndIfQuiet(kEpisodeStart + absl::Seconds(260));
  EXPECT_THAT(log.lines(),
              ElementsAre("warn event=hint_expired episode=begin home=n2",
                          "warn event=hint_expired episode=end occurrences=2 lasted=30s",
                          "warn event=hint_expired episode=begin home=n4",
                          "warn event=hint_expired episode=end occurrences=1 lasted=0"));
}

TEST(LogEpisodeTest, EndingAnEpisodeThatIsNotOpenLogsNothing) {
  CapturedLog log;
  LogEpisode episode(LogLevel::kError, "disk_full", absl::Minutes(1));
  episode.End(kEpisodeStart);
  episode.EndIfQuiet(kEpisodeStart + absl::Hours(1));
  EXPECT_THAT(log.lines(), IsEmpty());
}

}  // namespace
}  // namespace quorumkv
