#include "tools/common/output.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "client/kv_client.h"
#include "client/session_read.h"
#include "replication/hlc.h"

namespace quorumkv {

int ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return kExitOk;
    case absl::StatusCode::kInvalidArgument:
      return kExitUsage;
    case absl::StatusCode::kNotFound:
      return kExitNotFound;
    case absl::StatusCode::kUnavailable:
      return kExitUnavailable;
    case absl::StatusCode::kDeadlineExceeded:
      return kExitDeadline;
    case absl::StatusCode::kFailedPrecondition:
      return IsSessionGuaranteeFailure(status) ? kExitSession : kExitOther;
    default:
      return kExitOther;
  }
}

bool IsValidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 0;
    if (len == 0 || i + len > s.size()) return false;
    uint32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (size_t k = 1; k < len; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

void SetBytes(nlohmann::json& out, const std::string& field, absl::string_view bytes) {
  if (IsValidUtf8(bytes)) {
    out[field] = std::string(bytes);
  } else {
    out[field + "_b64"] = absl::Base64Escape(bytes);
  }
}

std::string PrintableBytes(absl::string_view bytes) {
  return IsValidUtf8(bytes) ? std::string(bytes)
                            : absl::StrCat("base64:", absl::Base64Escape(bytes));
}

std::string DotString(const v1::Dot& dot) { return absl::StrCat(dot.actor(), ":", dot.counter()); }

std::string HlcString(uint64_t hlc) {
  const absl::Time t = absl::FromUnixMillis(static_cast<int64_t>(HlcPhysicalMillis(hlc)));
  std::string text = absl::FormatTime("%Y-%m-%d %H:%M:%E3S", t, absl::UTCTimeZone());
  if (HlcLogical(hlc) != 0) absl::StrAppend(&text, " +", HlcLogical(hlc));
  return text;
}

nlohmann::json QuorumJson(const v1::QuorumInfo& q) {
  nlohmann::json replied = nlohmann::json::array();
  nlohmann::json latency = nlohmann::json::object();
  nlohmann::json hinted_for = nlohmann::json::object();  // fallback -> home
  for (const v1::ReplicaAnswer& a : q.replied()) {
    replied.push_back(a.node());
    latency[a.node()] = static_cast<double>(a.latency_us()) / 1000.0;
    if (a.fallback()) hinted_for[a.node()] = a.hinted_for();
  }
  nlohmann::json out = {
      {"coordinator", q.coordinator()},
      {"replied", replied},
      {"fallbacks", std::vector<std::string>(q.fallbacks().begin(), q.fallbacks().end())},
      {"repaired", std::vector<std::string>(q.repaired().begin(), q.repaired().end())},
      {"failed", std::vector<std::string>(q.failed().begin(), q.failed().end())},
      {"strict_overlap", q.strict_overlap()},
      {"covers_w", q.covers_w()},
      {"overlap_note", q.overlap_note()},
      {"required", q.required()},
      {"n", q.n()},
      {"sloppy", q.sloppy()},
      {"hinted_for", hinted_for},
      {"latency_ms", latency},
  };
  return out;
}

nlohmann::json GetJson(const v1::GetResponse& r) {
  nlohmann::json siblings = nlohmann::json::array();
  for (const v1::Sibling& s : r.siblings()) {
    nlohmann::json sibling = {{"tombstone", s.tombstone()},
                              {"dot", DotString(s.dot())},
                              // A string: HLC values pass 2^53, where JSON
                              // numbers lose digits in most parsers.
                              {"hlc", std::to_string(s.hlc())},
                              {"time", HlcString(s.hlc())}};
    SetBytes(sibling, "value", s.value());
    if (!s.idempotency_key().empty()) SetBytes(sibling, "idempotency_key", s.idempotency_key());
    siblings.push_back(sibling);
  }
  nlohmann::json out = nlohmann::json::object();
  SetBytes(out, "key", r.key());
  out["found"] = r.found();
  out["conflict"] = HasConflict(r);
  out["siblings"] = siblings;
  out["context"] = absl::Base64Escape(r.context());
  out["quorum"] = QuorumJson(r.quorum());
  out["staleness_bound_ms"] = r.quorum().has_staleness_bound_ms()
                                  ? nlohmann::json(r.quorum().staleness_bound_ms())
                                  : nlohmann::json(nullptr);
  out["stale"] = r.session().stale();
  if (r.has_session()) out["session"] = SessionJson(r.session());
  return out;
}

nlohmann::json PutJson(const v1::PutResponse& r) {
  nlohmann::json out = nlohmann::json::object();
  SetBytes(out, "key", r.key());
  out["dot"] = DotString(r.dot());
  out["context"] = absl::Base64Escape(r.context());
  out["quorum"] = QuorumJson(r.quorum());
  return out;
}

nlohmann::json StatusJson(const v1::StatusResponse& r) {
  nlohmann::json nodes = nlohmann::json::array();
  for (const v1::NodeStatus& n : r.nodes()) {
    nodes.push_back(
        {{"id", n.id()},
         {"address", n.address()},
         {"state", n.state()},
         {"hints_pending", n.hints_pending()},
         {"hint_bytes", n.hint_bytes()},
         {"oldest_hint_age_ms", n.has_oldest_hint_age_ms() ? nlohmann::json(n.oldest_hint_age_ms())
                                                           : nlohmann::json(nullptr)},
         {"partitions", n.partitions()},
         {"recent_median_ms", n.recent_median_ms()},
         {"baseline_p99_ms", n.baseline_p99_ms()},
         {"hints_expired", n.hints_expired()},
         {"partitions_marked_for_repair", n.partitions_marked_for_repair()},
         {"lost_writes", n.lost_writes()},
         {"invariant_failures", n.invariant_failures()},
         {"last_repair_round_age_ms", n.has_last_repair_round_age_ms()
                                          ? nlohmann::json(n.last_repair_round_age_ms())
                                          : nlohmann::json(nullptr)}});
  }
  return {{"reporter", r.reporter()},
          {"replication_factor", r.replication_factor()},
          {"partitions", r.partitions()},
          {"nodes", nodes}};
}

nlohmann::json SessionJson(const v1::SessionReadInfo& info) {
  return {{"attempts", info.attempts()},
          {"escalations",
           std::vector<std::string>(info.escalations().begin(), info.escalations().end())}};
}

nlohmann::json ErrorJson(absl::string_view key, const absl::Status& status) {
  nlohmann::json out = nlohmann::json::object();
  SetBytes(out, "key", key);
  out["error"] = {{"code", absl::StatusCodeToString(status.code())},
                  {"message", std::string(status.message())}};
  if (std::optional<v1::QuorumInfo> q = QuorumInfoOf(status)) out["quorum"] = QuorumJson(*q);
  if (std::optional<v1::SessionReadInfo> session = SessionReadInfoOf(status)) {
    out["session"] = SessionJson(*session);
  }
  return out;
}

std::string QuorumText(const v1::QuorumInfo& q, absl::string_view param) {
  std::vector<std::string> replied;
  for (const v1::ReplicaAnswer& a : q.replied()) {
    replied.push_back(a.fallback()
                          ? absl::StrFormat("%s for %s, hint (%.1f ms)", a.node(), a.hinted_for(),
                                            a.latency_us() / 1000.0)
                          : absl::StrFormat("%s (%.1f ms)", a.node(), a.latency_us() / 1000.0));
  }
  std::string text =
      absl::StrCat(param, "=", q.required(), " of N=", q.n(),
                   " needed; answered: ", replied.empty() ? "none" : absl::StrJoin(replied, ", "));
  if (!q.failed().empty()) absl::StrAppend(&text, "; failed: ", absl::StrJoin(q.failed(), ", "));
  if (!q.fallbacks().empty()) {
    absl::StrAppend(&text, "; sloppy quorum: fallbacks ", absl::StrJoin(q.fallbacks(), ", "),
                    " hold hints");
  }
  if (!q.repaired().empty()) {
    absl::StrAppend(&text, "; read-repaired: ", absl::StrJoin(q.repaired(), ", "));
  }
  if (!q.overlap_note().empty()) {
    absl::StrAppend(&text, q.strict_overlap() ? "; strict overlap: " : "; no strict overlap: ",
                    q.overlap_note());
  } else {
    absl::StrAppend(&text, q.strict_overlap() ? "; strict overlap" : "; no strict overlap");
  }
  return text;
}

std::vector<std::string> SplitEndpoints(absl::string_view list) {
  return absl::StrSplit(list, ',', absl::SkipWhitespace());
}

absl::StatusOr<Ring> RingOf(const v1::RingResponse& info) {
  std::vector<std::string> ids;
  for (const v1::NodeAddress& n : info.nodes()) ids.push_back(n.id());
  return Ring::Create(std::move(ids), info.vnodes_per_node(), info.replication_factor());
}

}  // namespace quorumkv
