#include "replication/version_vector.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace quorumkv {
namespace {

bool ActorLess(const VersionVector::Entry& e, absl::string_view actor) { return e.first < actor; }

}  // namespace

std::string DotToString(const Dot& dot) { return absl::StrCat(dot.actor, ":", dot.counter); }

VersionVector VersionVector::FromSortedEntries(std::vector<Entry> entries) {
  VersionVector vv;
  vv.entries_ = std::move(entries);
  return vv;
}

uint64_t VersionVector::Get(absl::string_view actor) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), actor, ActorLess);
  return (it != entries_.end() && it->first == actor) ? it->second : 0;
}

void VersionVector::Add(const Dot& dot) {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), dot.actor, ActorLess);
  if (it != entries_.end() && it->first == dot.actor) {
    it->second = std::max(it->second, dot.counter);
  } else if (dot.counter > 0) {
    entries_.insert(it, Entry(dot.actor, dot.counter));
  }
}

void VersionVector::Merge(const VersionVector& other) {
  // Most merges add no actor (contexts of one key name the same few): raise
  // counters in place then, without allocating.
  auto a = entries_.begin();
  bool same_actors = true;
  for (const Entry& e : other.entries_) {
    while (a != entries_.end() && a->first < e.first) ++a;
    if (a == entries_.end() || a->first != e.first) {
      same_actors = false;
      break;
    }
  }
  if (same_actors) {
    a = entries_.begin();
    for (const Entry& e : other.entries_) {
      while (a->first < e.first) ++a;
      a->second = std::max(a->second, e.second);
    }
    return;
  }
  MergeAddingActors(other);
}

void VersionVector::MergeAddingActors(const VersionVector& other) {
  std::vector<Entry> merged;
  merged.reserve(entries_.size() + other.entries_.size());
  auto a = entries_.begin();
  auto b = other.entries_.begin();
  while (a != entries_.end() || b != other.entries_.end()) {
    if (b == other.entries_.end() || (a != entries_.end() && a->first < b->first)) {
      merged.push_back(*a++);
    } else if (a == entries_.end() || b->first < a->first) {
      merged.push_back(*b++);
    } else {
      merged.emplace_back(a->first, std::max(a->second, b->second));
      ++a;
      ++b;
    }
  }
  entries_ = std::move(merged);
}

bool VersionVector::Descends(const VersionVector& other) const {
  for (const Entry& e : other.entries_) {
    if (Get(e.first) < e.second) return false;
  }
  return true;
}

std::string VersionVectorToString(const VersionVector& vv) {
  return absl::StrCat("{",
                      absl::StrJoin(vv.entries(), ", ",
                                    [](std::string* out, const VersionVector::Entry& e) {
                                      absl::StrAppend(out, e.first, ":", e.second);
                                    }),
                      "}");
}

}  // namespace quorumkv
