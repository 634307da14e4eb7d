// Versioned objects as dotted version vector sets (DVV sets), and the
// operations that keep concurrent writes as siblings.
//
// An Object is what a replica stores for a key: a causal context (a version
// vector covering every event the replica has seen for the key) and the
// siblings still alive in it, each tagged with the dot of the write that
// made it. Invariant: every sibling's dot is covered by the context.
//
// Why this never drops a concurrent write: a sibling is removed only by a
// state whose context covers its dot without holding it, i.e. by a write
// whose writer had seen that sibling. Two writes that did not see each other
// cover neither's dot, so both survive every merge.
//
// Soundness requires that an actor's events on one key reach its own replica
// in counter order before its next event on that key: the coordinator issues
// a dot and applies it to its local replica in one atomic step (see
// ReplicaStore::Update), and an actor whose disk was wiped comes back under a
// new epoch (a new actor), so its dots are never reused.
#ifndef QUORUMKV_REPLICATION_OBJECT_H_
#define QUORUMKV_REPLICATION_OBJECT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "replication/version_vector.h"

namespace quorumkv {

struct Sibling {
  Dot dot;
  uint64_t hlc = 0;  // HybridClock timestamp of the write
  bool tombstone = false;
  std::string value;  // empty for a tombstone
  // The put's idempotency key, if any (kv.proto): siblings sharing one are
  // copies of one write sent twice. They stay distinct siblings here — the
  // merge above is exact DVV — and a read shows the first (ShownSiblings).
  std::string idempotency_key;

  friend bool operator==(const Sibling&, const Sibling&) = default;
};

// A value type; not thread-safe. Siblings are kept sorted by dot, so equal
// states compare equal.
struct Object {
  VersionVector context;
  std::vector<Sibling> siblings;

  friend bool operator==(const Object&, const Object&) = default;
};

// The siblings a read shows, in dot order: of siblings that are copies of
// one write (applied twice, by a retry through a second coordinator: the
// same idempotency key, value and tombstone flag), only the one with the
// smallest dot. A key reused for a different value hides nothing. The
// read's context is still the object's: it covers every copy, so a write
// with it replaces them all. Points into `object`.
std::vector<const Sibling*> ShownSiblings(const Object& object);

// Live (non-tombstone) siblings.
size_t LiveSiblingCount(const Object& object);
// Bytes of all sibling values: what a read returns.
size_t ValueBytes(const Object& object);
// The HLC time of the newest delete of a deleted key: set iff the object
// has siblings and every one is a tombstone. Tombstone purge
// (docs/semantics.md) counts its grace period from it.
std::optional<uint64_t> TombstoneTime(const Object& object);

// Applies a new write to the coordinator's replica `local` (empty if none):
// siblings covered by `context` (what the writer had read) are replaced,
// the others stay as siblings. The result's context is local's, plus
// `context`, plus the new dot.
// REQUIRES: sibling.dot is newer than anything of its actor in `local` and
// `context` (see CheckFreshDot).
Object ApplyWrite(const Object& local, const VersionVector& context, Sibling sibling);

// OK iff `dot` can tag a new write on `local` given the writer's `context`.
// An invariant (invariant.h): the store issues each dot once and a context
// names only issued dots, so a failure is a bug (a reused dot: the bug
// behind Riak's KV679).
absl::Status CheckFreshDot(const Object& local, const VersionVector& context, const Dot& dot);
// The invariants of an object this node built (invariant.h): every
// sibling's dot is in the object's context, and no two siblings share one.
absl::Status CheckObjectInvariants(const Object& object);

// The context to hand back to the writer of `dot`, who had read `read`,
// when the coordinator's replica had context `before` just before the
// write: what the writer read plus its own write. A version vector entry
// covers every counter of its actor up to its value, so the new dot may be
// added only when the writer had seen every earlier event of that actor on
// the key; else the context would claim events its writer never saw, and a
// write with it would silently replace them wherever they are still
// siblings. (Without the dot, a later write with this context keeps this
// write as a sibling: safe.)
VersionVector ContextAfterWrite(const VersionVector& read, const VersionVector& before,
                                const Dot& dot);

// Merges two replica states of one key. Commutative, associative and
// idempotent, so replicas converge whatever order states arrive in.
Object Sync(const Object& a, const Object& b);

// Last-writer-wins, for `lww` namespaces: an object keeps one sibling, the
// write with the highest (hlc, dot) it has seen, and drops every other —
// even a write nobody read, and even a write that read the winner but ran on
// a clock that is behind (lossy by design). The context still gathers every
// dot. Both functions are joins of a semilattice (the maximum over the union
// of what both sides saw), so replicas converge in any merge order.
Object ApplyWriteLastWriterWins(const Object& local, const VersionVector& context, Sibling sibling);
Object SyncLastWriterWins(const Object& a, const Object& b);

// How a namespace resolves concurrent writes.
enum class MergePolicy { kSiblings, kLastWriterWins };
Object ApplyWrite(MergePolicy policy, const Object& local, const VersionVector& context,
                  Sibling sibling);
Object Sync(MergePolicy policy, const Object& a, const Object& b);

// True iff `newer` has seen everything `older` has: Sync(newer, older) == newer.
bool Descends(const Object& newer, const Object& older);

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_OBJECT_H_
