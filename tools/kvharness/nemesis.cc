#include "tools/kvharness/nemesis.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tools/kvharness/links.h"

namespace quorumkv {
namespace {

int64_t Number(const std::string& text) {
  int64_t n = 0;
  (void)absl::SimpleAtoi(text, &n);  // validated before
  return n;
}

absl::Status Unknown(const std::string& command) {
  return absl::InvalidArgumentError(absl::StrCat("nemesis command \"", command, "\": unknown"));
}

}  // namespace

absl::Status ApplyNemesisCommand(LocalCluster& cluster, const std::string& command) {
  const std::vector<std::string> w = NemesisWords(command);
  if (w.empty()) return Unknown(command);
  const std::string& verb = w[0];
  if (verb == "heal") return cluster.Heal();
  if (verb == "kill") return cluster.Kill(w.at(1));
  if (verb == "restart") return cluster.Restart(w.at(1));
  if (verb == "pause") return cluster.Pause(w.at(1));
  if (verb == "resume") return cluster.Resume(w.at(1));
  if (verb == "isolate") return cluster.Isolate(w.at(1));
  if (verb == "partition") return cluster.Partition(ParseSide(w.at(1)), ParseSide(w.at(3)));
  if (verb == "disk-full") return cluster.DiskFull(w.at(1), w.at(2) == "on");
  if (verb == "skew") return cluster.Skew(w.at(1), absl::Milliseconds(Number(w.at(2))));
  if (verb == "drop" || verb == "reset" || verb == "delay") {
    absl::StatusOr<std::pair<std::string, std::string>> link = ParseLink(w.at(1));
    if (!link.ok()) return link.status();
    if (verb == "drop") return cluster.Drop(link->first, link->second);
    if (verb == "reset") return cluster.Reset(link->first, link->second);
    const int64_t jitter = w.size() == 5 ? Number(w[4]) : 0;
    return cluster.Delay(link->first, link->second, absl::Milliseconds(Number(w.at(2))),
                         absl::Milliseconds(jitter));
  }
  return Unknown(command);
}

}  // namespace quorumkv
