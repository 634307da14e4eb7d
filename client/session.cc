#include "client/session.h"

#include <algorithm>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "proto/session.pb.h"
#include "replication/context_check.h"
#include "replication/object_codec.h"

namespace quorumkv {
namespace {

std::string DotsText(const std::vector<Dot>& dots) {
  return absl::StrJoin(dots, ", ",
                       [](std::string* out, const Dot& dot) { out->append(DotToString(dot)); });
}

absl::Status Malformed(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("session token is malformed: ", why));
}

}  // namespace

std::string SessionShortfall::Describe() const {
  std::vector<std::string> parts;
  if (!unwritten.empty()) {
    parts.push_back(absl::StrCat("lacks the session's own write", unwritten.size() > 1 ? "s " : " ",
                                 DotsText(unwritten)));
  }
  if (!unseen.empty()) {
    parts.push_back(
        absl::StrCat("older than a read the session already saw (lacks ", DotsText(unseen), ")"));
  }
  return absl::StrJoin(parts, "; ");
}

Session::Session(size_t max_keys) : max_keys_(std::max<size_t>(max_keys, 1)) {}

absl::StatusOr<Session> Session::FromToken(absl::string_view token, size_t max_keys) {
  if (token.size() > kMaxTokenBytes) {
    return Malformed(absl::StrCat(token.size(), " bytes, over the limit of ", kMaxTokenBytes));
  }
  std::string bytes;
  if (!absl::WebSafeBase64Unescape(token, &bytes)) return Malformed("not web-safe base64");
  v1::SessionProto proto;
  if (!proto.ParseFromString(bytes)) return Malformed("not a session");
  Session session(max_keys);
  if (static_cast<size_t>(proto.keys_size()) > session.max_keys_) {
    return Malformed(
        absl::StrCat(proto.keys_size(), " keys, over the session's limit of ", session.max_keys_));
  }
  session.evicted_ = proto.evicted();
  // Uses are renumbered 1..n in the token's order of use (ties by key): a
  // token is untrusted input, and its counters need not be dense or small.
  std::vector<std::pair<uint64_t, std::string>> order;
  for (const v1::SessionKeyProto& key : proto.keys()) {
    absl::StatusOr<VersionVector> written = FromProto(key.written());
    absl::StatusOr<VersionVector> seen = FromProto(key.seen());
    if (!written.ok()) return Malformed(written.status().message());
    if (!seen.ok()) return Malformed(seen.status().message());
    auto [it, inserted] =
        session.keys_.try_emplace(key.key(), KeyState{*std::move(written), *std::move(seen)});
    if (!inserted) return Malformed("a key appears twice");
    order.emplace_back(key.last_use(), key.key());
  }
  std::sort(order.begin(), order.end());
  for (const auto& [unused, key] : order) {
    auto it = session.keys_.find(key);
    it->second.last_use = ++session.use_counter_;
    session.keys_by_use_.emplace(session.use_counter_, &it->first);
  }
  return session;
}

std::string Session::Token() const {
  v1::SessionProto proto;
  proto.set_use_counter(use_counter_);
  proto.set_evicted(evicted_);
  std::vector<const Keys::value_type*> sorted;  // by key: one state, one token
  sorted.reserve(keys_.size());
  for (const auto& entry : keys_) sorted.push_back(&entry);
  std::sort(sorted.begin(), sorted.end(),
            [](const auto* a, const auto* b) { return a->first < b->first; });
  for (const auto* entry : sorted) {
    const auto& [key, state] = *entry;
    v1::SessionKeyProto* out = proto.add_keys();
    out->set_key(key);
    ToProto(state.written, out->mutable_written());
    ToProto(state.seen, out->mutable_seen());
    out->set_last_use(state.last_use);
  }
  return absl::WebSafeBase64Escape(proto.SerializeAsString());
}

Session::KeyState& Session::Touch(const std::string& key) {
  auto it = keys_.find(key);
  if (it == keys_.end()) {
    if (keys_.size() >= max_keys_) {
      auto oldest = keys_by_use_.begin();
      const std::string* oldest_key = oldest->second;
      keys_by_use_.erase(oldest);
      keys_.erase(keys_.find(*oldest_key));
      ++evicted_;
    }
    it = keys_.try_emplace(key).first;
  } else {
    keys_by_use_.erase(it->second.last_use);
  }
  it->second.last_use = ++use_counter_;
  keys_by_use_.emplace(it->second.last_use, &it->first);
  return it->second;
}

absl::Status Session::RecordWrite(const std::string& key, const v1::PutResponse& response) {
  absl::StatusOr<Dot> dot = FromProto(response.dot());
  if (!dot.ok()) return dot.status();
  absl::StatusOr<VersionVector> context = DecodeContext(response.context(), key);
  if (!context.ok()) return context.status();
  KeyState& state = Touch(key);
  state.written.Add(*dot);
  state.seen.Merge(*context);
  return absl::OkStatus();
}

absl::Status Session::RecordRead(const std::string& key, const v1::GetResponse& response) {
  absl::StatusOr<VersionVector> context = DecodeContext(response.context(), key);
  if (!context.ok()) return context.status();
  RecordRead(key, *context);
  return absl::OkStatus();
}

void Session::RecordRead(const std::string& key, const VersionVector& context) {
  Touch(key).seen.Merge(context);
}

absl::StatusOr<SessionShortfall> Session::Check(const std::string& key,
                                                const v1::GetResponse& reply) const {
  absl::StatusOr<VersionVector> context = DecodeContext(reply.context(), key);
  if (!context.ok()) return context.status();
  return Check(key, *context);
}

SessionShortfall Session::Check(const std::string& key, const VersionVector& context) const {
  SessionShortfall shortfall;
  auto it = keys_.find(key);
  if (it == keys_.end()) return shortfall;
  // The common case, without allocating: the reply covers both.
  if (context.Descends(it->second.written) && context.Descends(it->second.seen)) {
    return shortfall;
  }
  shortfall.unwritten = UnseenBy(context, it->second.written);
  // Named once: a dot of the session's own write is not also listed as seen.
  VersionVector named = it->second.written;
  named.Merge(context);
  shortfall.unseen = UnseenBy(named, it->second.seen);
  return shortfall;
}

std::vector<std::string> Session::Writers(const std::string& key) const {
  std::set<std::string> nodes;
  auto it = keys_.find(key);
  if (it == keys_.end()) return {};
  for (const auto& [actor, counter] : it->second.written.entries()) {
    nodes.insert(actor.substr(0, actor.find('.')));
  }
  return {nodes.begin(), nodes.end()};
}

}  // namespace quorumkv
