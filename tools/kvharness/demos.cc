#include "tools/kvharness/demos.h"

#include <cstdio>
#include <functional>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/kvharness/demo_support.h"

namespace quorumkv {
namespace {

struct Demo {
  std::function<int(LocalCluster&)> run;
  const char* about;
};

const std::map<std::string, Demo>& Demos() {
  static const auto* demos = new std::map<std::string, Demo>{
      {"siblings",
       {SiblingsDemo,
        "(3+ nodes) puts, a killed replica, concurrent writes kept as siblings, resolution, "
        "read repair"}},
      {"sloppy-quorum",
       {SloppyQuorumDemo,
        "(5 nodes) a dead home replica: strict write refused, a fallback takes the sloppy one, "
        "handoff when the home returns"}},
      {"strict-vs-sloppy",
       {StrictVsSloppyDemo,
        "(5 nodes) a partition cuts a live home replica off: strict refuses, sloppy accepts "
        "with a hint, the cut-off side reads stale, handoff after heal"}},
      {"lww-loss",
       {LwwLossDemo,
        "(3 nodes) the same concurrent writes kept as siblings, and one silently lost in a "
        "last-writer-wins namespace"}},
      {"read-your-writes",
       {ReadYourWritesDemo,
        "(3+ nodes) a W=1 write cut off from the other replicas: a plain read misses it, a "
        "session read escalates to it or refuses"}},
      {"bounded-staleness",
       {BoundedStalenessDemo,
        "(3+ nodes) reads at most 1 s stale, proven: bound 0 with every home replica, refused "
        "or flagged stale with one down"}},
  };
  return *demos;
}

}  // namespace

std::vector<std::string> DemoNames() {
  std::vector<std::string> names;
  for (const auto& [name, unused] : Demos()) names.push_back(name);
  return names;
}

void PrintDemoList() {
  for (const auto& [name, demo] : Demos()) {
    std::printf("%-18s %s\n", name.c_str(), demo.about);
  }
}

int RunDemo(const std::string& name, LocalCluster& cluster) {
  auto it = Demos().find(name);
  if (it == Demos().end()) {
    std::fprintf(stderr, "kvharness: no demo '%s' (demos: %s; kvharness demo --list)\n",
                 name.c_str(), absl::StrJoin(DemoNames(), ", ").c_str());
    return 2;
  }
  return it->second.run(cluster);
}

}  // namespace quorumkv
