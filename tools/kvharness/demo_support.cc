#include "tools/kvharness/demo_support.h"

#include <cstdio>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/common/output.h"

namespace quorumkv {

void Narrator::Title(const std::string& text) { std::printf("\n== %s ==\n", text.c_str()); }

void Narrator::Step(const std::string& text) {
  std::printf("\n%d. %s\n", ++step_, text.c_str());
  std::fflush(stdout);
}

void Narrator::Saw(const std::string& text) { std::printf("   -> %s\n", text.c_str()); }

void Narrator::Why(const std::string& text) { std::printf("   why: %s\n", text.c_str()); }

bool Narrator::Expect(bool ok, const std::string& what) {
  if (!ok) {
    std::printf("   MISBEHAVED: %s\n", what.c_str());
    ++failures_;
  }
  return ok;
}

int Narrator::Verdict() {
  std::printf("\n%s\n",
              failures_ == 0
                  ? "verdict: the store behaved as expected"
                  : absl::StrCat("verdict: ", failures_, " expectation(s) failed").c_str());
  std::fflush(stdout);
  return failures_ == 0 ? 0 : 1;
}

std::unique_ptr<KvClient> ClientFor(const std::string& endpoints) {
  return *KvClient::Connect(KvClientOptions{.endpoints = SplitEndpoints(endpoints)});
}

std::string Values(const v1::GetResponse& r) {
  std::vector<std::string> values;
  for (const std::string& v : LiveValues(r)) values.push_back(absl::StrCat("\"", v, "\""));
  return absl::StrCat("[", absl::StrJoin(values, ", "), "]");
}

std::string Replied(const v1::QuorumInfo& q) {
  std::vector<std::string> ids;
  for (const v1::ReplicaAnswer& a : q.replied()) {
    ids.push_back(a.hinted_for().empty() ? a.node()
                                         : absl::StrCat(a.node(), " (for ", a.hinted_for(), ")"));
  }
  return absl::StrJoin(ids, ", ");
}

}  // namespace quorumkv
