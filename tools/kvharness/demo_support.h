// What the narrated demos share: the narrator that prints steps and checks
// expectations, and small helpers to describe replies.
#ifndef QUORUMKV_TOOLS_KVHARNESS_DEMO_SUPPORT_H_
#define QUORUMKV_TOOLS_KVHARNESS_DEMO_SUPPORT_H_

#include <memory>
#include <string>

#include "client/kv_client.h"
#include "tools/kvharness/local_cluster.h"

namespace quorumkv {

// Prints a demo's steps, what it saw and why; a failed expectation is
// printed and counted, and the demo goes on so the reader sees the rest.
// Not thread-safe.
class Narrator {
 public:
  void Title(const std::string& text);
  void Step(const std::string& text);
  void Saw(const std::string& text);
  void Why(const std::string& text);
  // Returns `ok`.
  bool Expect(bool ok, const std::string& what);
  // Prints the verdict; 0 if every expectation held, else 1.
  int Verdict();

 private:
  int step_ = 0;
  int failures_ = 0;
};

// A client of `endpoints` ("HOST:PORT,..."); never null.
std::unique_ptr<KvClient> ClientFor(const std::string& endpoints);
// ["a", "b"]: the live values of a get.
std::string Values(const v1::GetResponse& r);
// "n1, n2 (for n3)": who answered.
std::string Replied(const v1::QuorumInfo& q);

// The demos (see demos.h).
int SiblingsDemo(LocalCluster& cluster);
int SloppyQuorumDemo(LocalCluster& cluster);

}  // namespace quorumkv

#endif  // QUORUMKV_TOOLS_KVHARNESS_DEMO_SUPPORT_H_
