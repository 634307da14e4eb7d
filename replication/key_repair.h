// What an anti-entropy exchange (anti_entropy.h) does with one key it
// listed on both sides: nothing, merge the peer's state here, send this
// node's to the peer, or both. Pure: the same inputs, the same answer.
#ifndef QUORUMKV_REPLICATION_KEY_REPAIR_H_
#define QUORUMKV_REPLICATION_KEY_REPAIR_H_

#include <optional>
#include <string>

#include "replication/object.h"

namespace quorumkv {

// What an exchange found of one key on both sides.
struct KeyListing {
  std::optional<Object> local;
  std::optional<Object> remote;
  bool remote_purged = false;  // the peer purged `remote` and holds nothing
};

// A key to repair: `take` merged into this node's replica, `give` sent to
// the peer as a replica write.
struct KeyRepair {
  std::string key;
  std::optional<Object> take;
  std::optional<Object> give;
};

// How to repair `key`, nullopt if the sides agree. `purged_here`: the
// tombstone of `key` this node purged lately, if it remembers one
// (purged_keys.h). A side that purged a tombstone agrees with one that
// holds it; a side that holds what a purged tombstone covers (a replica
// that lost it, or never got it) gets the tombstone, and is never taken
// from (docs/semantics.md, "Purging tombstones").
std::optional<KeyRepair> RepairOf(const std::string& key, const KeyListing& listing,
                                  const std::optional<Object>& purged_here, MergePolicy policy);

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_KEY_REPAIR_H_
