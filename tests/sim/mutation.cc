#include "tests/sim/mutation.h"

namespace quorumkv::sim {

const std::vector<MutationInfo>& Mutations() {
  static const std::vector<MutationInfo> kMutations = {
      {Mutation::kDropSibling, "drop-sibling", {1, 2}},
      {Mutation::kReuseDot, "reuse-dot", {4}},
      {Mutation::kRefuseOthersWrites, "refuse-others-writes", {5}},
      {Mutation::kResurrect, "resurrect", {6}},
      {Mutation::kAckUnstoredHints, "ack-unstored-hints", {7}},
      {Mutation::kKeepDeliveredHints, "keep-delivered-hints", {8}},
      {Mutation::kFallbackIgnoresHints, "fallback-ignores-hints", {9}},
      {Mutation::kOverclaimOverlap, "overclaim-overlap", {3}},
      {Mutation::kMisreportReplies, "misreport-replies", {10}},
      {Mutation::kAcceptForgedContexts, "accept-forged-contexts", {11}},
      {Mutation::kUncountedExpiry, "uncounted-expiry", {12}},
      {Mutation::kClaimNothingWritten, "claim-nothing-written", {13}},
      {Mutation::kAckUnstoredWrites, "ack-unstored-writes", {14}},
      {Mutation::kBlindAntiEntropy, "blind-anti-entropy", {5}},
      {Mutation::kPurgeWithoutProof, "purge-without-proof", {15}},
      {Mutation::kSessionTrustsFirstReply, "session-trusts-first-reply", {16}},
      {Mutation::kUnderstateStaleness, "understate-staleness", {17}},
  };
  return kMutations;
}

std::optional<Mutation> MutationNamed(absl::string_view name) {
  if (name == "none") return Mutation::kNone;
  for (const MutationInfo& m : Mutations()) {
    if (name == m.name) return m.mutation;
  }
  return std::nullopt;
}

const char* MutationName(Mutation mutation) {
  for (const MutationInfo& m : Mutations()) {
    if (m.mutation == mutation) return m.name;
  }
  return "none";
}

}  // namespace quorumkv::sim
