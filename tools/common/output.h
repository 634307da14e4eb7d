// tools/: kvctl, kvharness, kvbench and example apps. This header holds what
// the command-line tools share: exit codes, and the rendering of replies as
// JSON (the fixed fields of SPEC section 8) or as text.
#ifndef QUORUMKV_TOOLS_COMMON_OUTPUT_H_
#define QUORUMKV_TOOLS_COMMON_OUTPUT_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/kv.pb.h"
#include "replication/ring.h"

namespace quorumkv {

// kvctl's exit codes.
enum ExitCode : int {
  kExitOk = 0,
  kExitOther = 1,
  kExitUsage = 2,  // bad invocation or bad input: nothing was done
  kExitNotFound = 3,
  kExitUnavailable = 4,  // quorum not met
  kExitDeadline = 5,     // deadline exceeded: outcome unknown
  kExitSession = 6,      // session guarantee not satisfiable
};

int ExitCodeFor(const absl::Status& status);

bool IsValidUtf8(absl::string_view bytes);
// Sets `field` to the bytes when they are valid UTF-8, else `field`_b64 to
// their base64.
void SetBytes(nlohmann::json& out, const std::string& field, absl::string_view bytes);
// Bytes for a terminal: the text when valid UTF-8, else "base64:<b64>".
std::string PrintableBytes(absl::string_view bytes);

std::string DotString(const v1::Dot& dot);  // "n1.5f3a9c2e:17"
std::string HlcString(uint64_t hlc);        // "2026-11-23 12:00:01.123 +4"

nlohmann::json QuorumJson(const v1::QuorumInfo& quorum);
nlohmann::json GetJson(const v1::GetResponse& response);
nlohmann::json PutJson(const v1::PutResponse& response);
nlohmann::json StatusJson(const v1::StatusResponse& response);
// A session read's attempts and escalations: {"attempts","escalations":[...]}.
nlohmann::json SessionJson(const v1::SessionReadInfo& info);
// {"key", "error": {"code", "message"}, "quorum"?, "session"?}
nlohmann::json ErrorJson(absl::string_view key, const absl::Status& status);

// One line: "R=2 of N=3 needed; answered: n1 (0.4 ms), n2 (1.2 ms); ...".
// `param` is "R" or "W".
std::string QuorumText(const v1::QuorumInfo& quorum, absl::string_view param);

// Splits "a:1,b:2" into endpoints; empty pieces are dropped.
std::vector<std::string> SplitEndpoints(absl::string_view list);

// The cluster's ring as a node described it (KvClient::Ring), to place keys
// as the nodes do.
absl::StatusOr<Ring> RingOf(const v1::RingResponse& info);

}  // namespace quorumkv

#endif  // QUORUMKV_TOOLS_COMMON_OUTPUT_H_
