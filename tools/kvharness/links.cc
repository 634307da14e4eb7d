#include "tools/kvharness/links.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace quorumkv {

std::vector<std::string> ParseSide(const std::string& text) {
  return absl::StrSplit(text, ',', absl::SkipWhitespace());
}

absl::StatusOr<std::pair<std::string, std::string>> ParseLink(const std::string& text) {
  const size_t arrow = text.find("->");
  if (arrow == std::string::npos || arrow == 0 || arrow + 2 == text.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("link '", text, "' is not SRC->DST (e.g. n1->n2, client->n1, '*->n2')"));
  }
  return std::make_pair(text.substr(0, arrow), text.substr(arrow + 2));
}

std::string FormatLinkFaults(uint64_t generation, const LinkFaults& faults) {
  std::string out = absl::StrCat("generation ", generation, "\n");
  for (const auto& [key, f] : faults) {
    if (!f.any()) continue;
    absl::StrAppend(&out, key.first, " ", key.second, f.drop ? " drop" : "",
                    f.reset ? " reset" : "");
    if (f.delay > absl::ZeroDuration()) {
      absl::StrAppend(&out, " delay=", absl::ToInt64Milliseconds(f.delay));
      absl::StrAppend(&out, " jitter=", absl::ToInt64Milliseconds(f.jitter));
    }
    absl::StrAppend(&out, "\n");
  }
  return out;
}

absl::StatusOr<std::pair<uint64_t, LinkFaults>> ParseLinkFaults(const std::string& text) {
  uint64_t generation = 0;
  LinkFaults faults;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipWhitespace())) {
    const std::vector<std::string> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (words.size() == 2 && words[0] == "generation" && absl::SimpleAtoi(words[1], &generation)) {
      continue;
    }
    if (words.size() < 3) return absl::DataLossError(absl::StrCat("bad fault line: ", line));
    LinkFault& f = faults[{words[0], words[1]}];
    for (size_t i = 2; i < words.size(); ++i) {
      int64_t ms = 0;
      if (words[i] == "drop") {
        f.drop = true;
      } else if (words[i] == "reset") {
        f.reset = true;
      } else if (absl::StartsWith(words[i], "delay=") &&
                 absl::SimpleAtoi(words[i].substr(6), &ms)) {
        f.delay = absl::Milliseconds(ms);
      } else if (absl::StartsWith(words[i], "jitter=") &&
                 absl::SimpleAtoi(words[i].substr(7), &ms)) {
        f.jitter = absl::Milliseconds(ms);
      } else {
        return absl::DataLossError(absl::StrCat("bad fault line: ", line));
      }
    }
  }
  return std::make_pair(generation, faults);
}

std::string FormatProxiedLinks(const std::vector<ProxiedLink>& links) {
  std::string out;
  for (const ProxiedLink& l : links) {
    absl::StrAppend(&out, l.from, " ", l.to, " ", l.listen_port, " ", l.target, "\n");
  }
  return out;
}

absl::StatusOr<std::vector<ProxiedLink>> ParseProxiedLinks(const std::string& text) {
  std::vector<ProxiedLink> links;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipWhitespace())) {
    const std::vector<std::string> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
    ProxiedLink link;
    if (words.size() != 4 || !absl::SimpleAtoi(words[2], &link.listen_port)) {
      return absl::DataLossError(absl::StrCat("bad link line: ", line));
    }
    link.from = words[0];
    link.to = words[1];
    link.target = words[3];
    links.push_back(std::move(link));
  }
  return links;
}

}  // namespace quorumkv
