// Deliberate bugs the simulator can run with, one per invariant, to prove
// that each checker can fail: a checker no mutation trips proves nothing.
//
// They sit outside the replication core: in the store decorator of the
// simulated nodes (a store that loses, keeps or hides what it should not),
// or between the simulated clients and the nodes (a reply that claims what
// did not happen, a request changed on the way). kvsim --mutate NAME.
#ifndef QUORUMKV_TESTS_SIM_MUTATION_H_
#define QUORUMKV_TESTS_SIM_MUTATION_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace quorumkv::sim {

enum class Mutation {
  kNone,
  kDropSibling,              // n1's store drops a sibling from every write holding two or more
  kReuseDot,                 // n1's store hands out every fifth counter twice
  kRefuseOthersWrites,       // n1's store keeps none of the writes other nodes coordinated
  kResurrect,                // n1's store keeps the siblings a write replaced
  kAckUnstoredHints,         // fallbacks ack hints they never store
  kKeepDeliveredHints,       // a delivered hint is never deleted
  kFallbackIgnoresHints,     // a fallback answers as if it held no hint
  kOverclaimOverlap,         // every read claims strict_overlap and covers_w=1
  kMisreportReplies,         // every reply names a replica that did not answer in its quorum
  kAcceptForgedContexts,     // forged context entries are stripped on the way to the node
  kUncountedExpiry,          // an expired hint is dropped without being counted
  kClaimNothingWritten,      // every failed write says "nothing written"
  kAckUnstoredWrites,        // n1's store reports every tenth update stored and keeps the old state
  kBlindAntiEntropy,         // every node answers an anti-entropy exchange that its tree agrees
  kPurgeWithoutProof,        // n1 answers every exchange that it agrees: its peers purge
                             // tombstones it never got
  kSessionTrustsFirstReply,  // a session read takes its first reply, whatever it lacks
  kUnderstateStaleness,      // every read reports a staleness bound of 0
};

struct MutationInfo {
  Mutation mutation;
  const char* name;             // kvsim --mutate NAME
  std::vector<int> invariants;  // the invariants that must each catch it
};

// Every mutation but kNone.
const std::vector<MutationInfo>& Mutations();
std::optional<Mutation> MutationNamed(absl::string_view name);
const char* MutationName(Mutation mutation);

}  // namespace quorumkv::sim

#endif  // QUORUMKV_TESTS_SIM_MUTATION_H_
