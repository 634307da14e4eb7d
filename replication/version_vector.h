// Dots and version vectors: the vocabulary of causality in quorumkv.
#ifndef QUORUMKV_REPLICATION_VERSION_VECTOR_H_
#define QUORUMKV_REPLICATION_VERSION_VECTOR_H_

#include <compare>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace quorumkv {

// One write event: issued by `actor` (a node incarnation, "<node>.<epoch>")
// from that actor's node-wide counter. Dots are never reused.
struct Dot {
  std::string actor;
  uint64_t counter = 0;

  friend auto operator<=>(const Dot&, const Dot&) = default;
  friend bool operator==(const Dot&, const Dot&) = default;
};

// "n1.5f3a9c2e:17".
std::string DotToString(const Dot& dot);

// A map actor -> counter, read as "covers every event of `actor` on this key
// up to `counter`". Entries are kept sorted by actor; a missing actor is 0.
// A value type; not thread-safe.
class VersionVector {
 public:
  using Entry = std::pair<std::string, uint64_t>;

  VersionVector() = default;
  // REQUIRES: entries sorted by actor, actors unique, counters > 0.
  static VersionVector FromSortedEntries(std::vector<Entry> entries);

  uint64_t Get(absl::string_view actor) const;
  bool Covers(const Dot& dot) const { return dot.counter <= Get(dot.actor); }
  // Raises the entry of dot.actor to at least dot.counter.
  void Add(const Dot& dot);
  // Pointwise maximum.
  void Merge(const VersionVector& other);
  // True iff this covers every event `other` covers.
  bool Descends(const VersionVector& other) const;

  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }
  const std::vector<Entry>& entries() const { return entries_; }

  friend bool operator==(const VersionVector&, const VersionVector&) = default;

 private:
  void MergeAddingActors(const VersionVector& other);

  std::vector<Entry> entries_;
};

// "{n1.5f3a9c2e:17, n2.0a1b2c3d:4}".
std::string VersionVectorToString(const VersionVector& vv);

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_VERSION_VECTOR_H_
