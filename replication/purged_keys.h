// The tombstones a node purged lately (tombstone purge, docs/semantics.md
// "Purging tombstones"). Anti-entropy reports them to the peers that
// compare with the node, so a peer that still holds one of them counts the
// node as holding it (it did, and purged it with proof) instead of sending
// it back; and the node does not take back from a peer a tombstone it
// purged. Without them, the home replicas of a key would hand its
// tombstone back and forth, each purging it in turn.
//
// In memory only, bounded: at most kMaxRecords, each kept for `keep_for`,
// the oldest forgotten first. A forgotten record costs one round trip of
// the tombstone (a peer sends it back, it is stored and purged again); it
// never brings a value back.
#ifndef QUORUMKV_REPLICATION_PURGED_KEYS_H_
#define QUORUMKV_REPLICATION_PURGED_KEYS_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "replication/object.h"

namespace quorumkv {

// Thread-safe.
class PurgedKeys {
 public:
  static constexpr size_t kMaxRecords = 65'536;

  explicit PurgedKeys(absl::Duration keep_for) : keep_for_(keep_for) {}

  // `key`'s tombstone `tombstone` was purged at `now` (the latest record of
  // a key replaces the one before).
  void Add(const std::string& key, const Object& tombstone, absl::Time now);
  // The tombstone purged of `key`, if recorded and not expired.
  std::optional<Object> Find(absl::string_view key, absl::Time now);
  // The records of the keys of Merkle segment `segment` whose StableHash
  // is in [hash_first, hash_last], in key order. Work: every record.
  std::vector<std::pair<std::string, Object>> InSegment(uint32_t segment, uint64_t hash_first,
                                                        uint64_t hash_last, absl::Time now);
  size_t size() const;

 private:
  struct Record {
    Object tombstone;
    uint64_t added = 0;  // the number of the Add that made it
  };
  struct Added {
    uint64_t number;
    absl::Time at;
    std::string key;
  };
  void ForgetExpired(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const absl::Duration keep_for_;
  mutable absl::Mutex mu_;
  std::map<std::string, Record, std::less<>> by_key_ ABSL_GUARDED_BY(mu_);
  // Every Add, in order; a key added again has a newer entry, and only
  // its latest one (by number) owns the record.
  std::deque<Added> order_ ABSL_GUARDED_BY(mu_);
  uint64_t adds_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_PURGED_KEYS_H_
