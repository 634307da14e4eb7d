#include "tools/kvharness/demos.h"

#include <cstdio>
#include <functional>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/kvharness/demo_support.h"

namespace quorumkv {
namespace {

const std::map<std::string, std::function<int(LocalCluster&)>>& Demos() {
  static const auto* demos = new std::map<std::string, std::function<int(LocalCluster&)>>{
      {"siblings", SiblingsDemo},
      {"sloppy-quorum", SloppyQuorumDemo},
  };
  return *demos;
}

}  // namespace

std::vector<std::string> DemoNames() {
  std::vector<std::string> names;
  for (const auto& [name, unused] : Demos()) names.push_back(name);
  return names;
}

int RunDemo(const std::string& name, LocalCluster& cluster) {
  auto it = Demos().find(name);
  if (it == Demos().end()) {
    std::fprintf(stderr, "kvharness: no demo '%s' (demos: %s)\n", name.c_str(),
                 absl::StrJoin(DemoNames(), ", ").c_str());
    return 2;
  }
  return it->second(cluster);
}

}  // namespace quorumkv
