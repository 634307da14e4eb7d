// What each node's current actor may have issued, as the node says in its
// pings: the ceiling of its dot lease (no counter above it was issued when
// it said so) and the size of its lease blocks.
//
// A replica object whose context names a dot above that was never issued:
// it is forged or corrupt. Stored, it would make the key unwritable by that
// actor: its later dots would read as already seen, and the coordinator
// would refuse every put of the key ("not newer than the object's
// context"). Replica writes (and so anti-entropy's merges, read repair and
// handoff) are checked against these bounds, even from an authenticated
// peer: defence in depth behind mutual TLS.
//
// The bound for another node's actor is its last heard ceiling plus one
// lease block (it may have leased one more block since it said), and only
// while that was heard less than kFreshFor ago: a node this one has not
// heard from lately (a partition between the two, while writes of it still
// come through a third node) is not checked, rather than refused. So a
// write is refused wrongly only if its node issued more than a block of
// dots (10,000 by default) within kFreshFor of its last ping here, far
// above what a node coordinates. For this node's own actor the bound is its
// current lease, exactly. An actor no ping has named (an old generation, a
// node not heard from yet) is not checked. A ping names only an actor of
// its own node ("<node id>.<epoch>..."), and the server checks that a
// ping's `from` is the caller's certificate (server/caller_policy.h).
//
// Thread-safe. Memory: one entry per node of the config.
#ifndef QUORUMKV_REPLICATION_ISSUED_DOTS_H_
#define QUORUMKV_REPLICATION_ISSUED_DOTS_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "replication/object.h"

namespace quorumkv {

// A node's dot lease: counters up to `ceiling` may have been issued; the
// next lease reaches `block` further.
struct DotLease {
  uint64_t ceiling = 0;
  uint64_t block = 0;
};

class IssuedDots {
 public:
  static constexpr absl::Duration kFreshFor = absl::Seconds(1);

  // `node` (its pings) said at `now` (a steady clock) that its actor is
  // `actor`, with `lease`. A ceiling never goes down; a new actor replaces
  // the node's old one; an actor not of `node` is ignored.
  void Heard(const std::string& node, const std::string& actor, DotLease lease, absl::Time now);

  // INVALID_ARGUMENT naming the first entry of `object`'s context (which
  // covers every sibling's dot) above what its actor can have issued:
  // above `own_lease.ceiling` for `own_actor`, above a heard ceiling plus
  // its block for another node's actor heard from within kFreshFor of
  // `now`.
  absl::Status Check(const Object& object, absl::string_view own_actor, DotLease own_lease,
                     absl::Time now) const;

 private:
  struct Said {
    std::string actor;
    DotLease lease;
    absl::Time at;
  };
  mutable absl::Mutex mu_;
  std::map<std::string, Said> by_node_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_ISSUED_DOTS_H_
