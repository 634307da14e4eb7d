#include "replication/key_repair.h"

#include "replication/merkle_tree.h"

namespace quorumkv {

std::optional<KeyRepair> RepairOf(const std::string& key, const KeyListing& listing,
                                  const std::optional<Object>& purged_here, MergePolicy policy) {
  const std::optional<Object>& local = listing.local;
  const std::optional<Object>& remote = listing.remote;
  if (listing.remote_purged) {
    // The peer held this tombstone, with every other home replica, and
    // purged it: holding it too, or nothing, is agreeing.
    if (!local || *local == *remote) return std::nullopt;
    // What the tombstone covers is deleted here too; anything newer goes
    // back merged with it, never as the bare state it deleted.
    if (Descends(*remote, *local)) return KeyRepair{.key = key, .take = remote};
    return KeyRepair{.key = key, .take = remote, .give = Sync(policy, *local, *remote)};
  }
  if (!local && remote && purged_here) {
    if (*purged_here == *remote) return std::nullopt;  // the peer purges it in its round
    // The peer holds what this node deleted and purged (it lost the
    // tombstone): it gets the tombstone back, and nothing is taken.
    if (Descends(*purged_here, *remote)) return KeyRepair{.key = key, .give = purged_here};
  }
  const uint64_t mine = local ? MerkleTree::EntryHash(key, *local) : 0;
  const uint64_t theirs = remote ? MerkleTree::EntryHash(key, *remote) : 0;
  if (mine == theirs) return std::nullopt;
  return KeyRepair{.key = key, .take = remote, .give = local};
}

}  // namespace quorumkv
