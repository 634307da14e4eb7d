// A client session: what one user (a browser tab, a request chain, a
// script) has done, so that its reads can be held to session guarantees
// (docs/consistency.md):
//   - read-your-writes: a read reflects every write the session had
//     acknowledged for the key (its context covers their dots);
//   - monotonic reads: a read is never older than one the session already
//     saw for the key (its context descends every context the session
//     read or was handed back by a write).
// "Reflects" is causal: a later write by anyone that replaced the
// session's value also covers its dot, so a read of that later value
// satisfies both.
//
// The session only keeps score; KvClient (kv_client.h) escalates a read
// whose reply falls short (session_read.h). State is per key, at most
// `max_keys` of them: beyond that the least recently used key is dropped
// and counted (evicted()); the session then guarantees nothing for it.
//
// Movable, not copyable (copy it through its token); not thread-safe: one
// session is used by one thread at a time (a user's requests are
// sequential). The token (Token/FromToken)
// carries the whole state, so a session survives a process: kvctl keeps it
// in a file (--session FILE).
#ifndef QUORUMKV_CLIENT_SESSION_H_
#define QUORUMKV_CLIENT_SESSION_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/container/node_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/kv.pb.h"
#include "replication/version_vector.h"

namespace quorumkv {

// What a read's reply lacks of a session's guarantees.
struct SessionShortfall {
  std::vector<Dot> unwritten;  // the session's own writes it does not reflect
  std::vector<Dot> unseen;     // events of replies the session already saw

  bool ok() const { return unwritten.empty() && unseen.empty(); }
  // "lacks the session's write n1.5f3a:17; older than a read the session
  // already saw (lacks n2.0a1b:4)", or "" when ok().
  std::string Describe() const;
};

class Session {
 public:
  static constexpr size_t kDefaultMaxKeys = 10'000;
  // Bytes of a token FromToken accepts: generous for kDefaultMaxKeys keys.
  static constexpr size_t kMaxTokenBytes = 64 << 20;

  explicit Session(size_t max_keys = kDefaultMaxKeys);
  Session(Session&&) = default;
  Session& operator=(Session&&) = default;
  // keys_by_use_ points into keys_: a copy's would point into the original.
  // (A move keeps the nodes, and so the pointers.)
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // INVALID_ARGUMENT "session token is malformed: ..." for bytes Token()
  // did not make, and for a token of more keys than `max_keys`.
  static absl::StatusOr<Session> FromToken(absl::string_view token,
                                           size_t max_keys = kDefaultMaxKeys);
  // Web-safe base64 text: fits a file, a cookie or a header.
  std::string Token() const;

  // An acknowledged put or delete of `key`: its dot joins the session's
  // writes, the context it returned what the session saw. INVALID_ARGUMENT
  // if the response's dot or context does not decode (nothing recorded).
  absl::Status RecordWrite(const std::string& key, const v1::PutResponse& response);
  // A read the application was given: its context joins what the session saw.
  absl::Status RecordRead(const std::string& key, const v1::GetResponse& response);
  // The same, with the reply's context already decoded.
  void RecordRead(const std::string& key, const VersionVector& context);

  // What `reply` (a read of `key`) lacks of the session's guarantees.
  // INVALID_ARGUMENT if its context does not decode.
  absl::StatusOr<SessionShortfall> Check(const std::string& key,
                                         const v1::GetResponse& reply) const;
  // The same, with the reply's context already decoded.
  SessionShortfall Check(const std::string& key, const VersionVector& context) const;

  // The nodes that coordinated the session's writes of `key` (from the
  // actors of their dots, "<node>.<epoch>"): each holds the write in its
  // own replica unless it lost data since. Sorted, unique.
  std::vector<std::string> Writers(const std::string& key) const;

  size_t key_count() const { return keys_.size(); }
  uint64_t evicted() const { return evicted_; }

 private:
  struct KeyState {
    VersionVector written;
    VersionVector seen;
    uint64_t last_use = 0;
  };

  // The key's state, created (evicting the least recently used key when
  // full) if absent, and marked used.
  KeyState& Touch(const std::string& key);

  // Nodes, so keys_by_use_ may point at the keys.
  using Keys = absl::node_hash_map<std::string, KeyState>;

  size_t max_keys_;
  Keys keys_;
  std::map<uint64_t, const std::string*> keys_by_use_;  // by last_use: the eviction order
  uint64_t use_counter_ = 0;
  uint64_t evicted_ = 0;
};

}  // namespace quorumkv

#endif  // QUORUMKV_CLIENT_SESSION_H_
