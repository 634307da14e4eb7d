#include "replication/object.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "replication/invariant.h"

namespace quorumkv {
namespace {

bool DotLess(const Sibling& a, const Sibling& b) { return a.dot < b.dot; }

// Two siblings with one dot must be the same write. If a reused dot ever let
// them differ, pick one by content so that merging stays deterministic.
const Sibling& PickSameDot(const Sibling& a, const Sibling& b) {
  if (a == b) return a;
  auto key = [](const Sibling& s) {
    return std::tie(s.hlc, s.tombstone, s.value, s.idempotency_key);
  };
  return key(a) >= key(b) ? a : b;
}

}  // namespace

std::vector<const Sibling*> ShownSiblings(const Object& object) {
  std::vector<const Sibling*> shown;
  shown.reserve(object.siblings.size());
  // Siblings are sorted by dot: the first copy of a write is the smallest.
  for (const Sibling& s : object.siblings) {
    auto same_write = [&](const Sibling* other) {
      return other->idempotency_key == s.idempotency_key && other->tombstone == s.tombstone &&
             other->value == s.value;
    };
    if (s.idempotency_key.empty() || std::none_of(shown.begin(), shown.end(), same_write)) {
      shown.push_back(&s);
    }
  }
  return shown;
}

size_t LiveSiblingCount(const Object& object) {
  return std::count_if(object.siblings.begin(), object.siblings.end(),
                       [](const Sibling& s) { return !s.tombstone; });
}

std::optional<uint64_t> TombstoneTime(const Object& object) {
  if (object.siblings.empty()) return std::nullopt;
  uint64_t newest = 0;
  for (const Sibling& s : object.siblings) {
    if (!s.tombstone) return std::nullopt;
    newest = std::max(newest, s.hlc);
  }
  return newest;
}

size_t ValueBytes(const Object& object) {
  size_t bytes = 0;
  for (const Sibling& s : object.siblings) bytes += s.value.size();
  return bytes;
}

absl::Status CheckFreshDot(const Object& local, const VersionVector& context, const Dot& dot) {
  QKV_INVARIANT(
      dot.counter > 0 && !local.context.Covers(dot) && !context.Covers(dot),
      absl::StrCat("issued dot ", DotToString(dot), " is not newer than the object's context ",
                   VersionVectorToString(local.context), " or the put's ",
                   VersionVectorToString(context)));
  return absl::OkStatus();
}

absl::Status CheckObjectInvariants(const Object& object) {
  for (size_t i = 0; i < object.siblings.size(); ++i) {
    const Dot& dot = object.siblings[i].dot;
    QKV_INVARIANT(dot.counter > 0 && object.context.Covers(dot),
                  absl::StrCat("sibling ", DotToString(dot), " is outside the object's context ",
                               VersionVectorToString(object.context)));
    for (size_t j = 0; j < i; ++j) {
      QKV_INVARIANT(!(object.siblings[j].dot == dot),
                    absl::StrCat("two siblings carry dot ", DotToString(dot)));
    }
  }
  return absl::OkStatus();
}

Object ApplyWrite(const Object& local, const VersionVector& context, Sibling sibling) {
  Object result;
  result.context = local.context;
  result.context.Merge(context);
  result.context.Add(sibling.dot);
  for (const Sibling& s : local.siblings) {
    if (!context.Covers(s.dot)) result.siblings.push_back(s);
  }
  auto pos = std::upper_bound(result.siblings.begin(), result.siblings.end(), sibling, DotLess);
  result.siblings.insert(pos, std::move(sibling));
  return result;
}

VersionVector ContextAfterWrite(const VersionVector& read, const VersionVector& before,
                                const Dot& dot) {
  if (read.Get(dot.actor) < before.Get(dot.actor)) return read;
  VersionVector reply = read;
  reply.Add(dot);
  return reply;
}

Object Sync(const Object& a, const Object& b) {
  Object result;
  result.context = a.context;
  result.context.Merge(b.context);
  // Both sibling lists are sorted by dot: walk them together. A sibling
  // present on one side only survives unless the other side has seen its
  // dot (then the other side replaced it).
  auto ia = a.siblings.begin();
  auto ib = b.siblings.begin();
  while (ia != a.siblings.end() || ib != b.siblings.end()) {
    if (ib == b.siblings.end() || (ia != a.siblings.end() && ia->dot < ib->dot)) {
      if (!b.context.Covers(ia->dot)) result.siblings.push_back(*ia);
      ++ia;
    } else if (ia == a.siblings.end() || ib->dot < ia->dot) {
      if (!a.context.Covers(ib->dot)) result.siblings.push_back(*ib);
      ++ib;
    } else {
      result.siblings.push_back(PickSameDot(*ia, *ib));
      ++ia;
      ++ib;
    }
  }
  return result;
}

Object SyncLastWriterWins(const Object& a, const Object& b) {
  Object result;
  result.context = a.context;
  result.context.Merge(b.context);
  const Sibling* newest = nullptr;
  for (const Object* side : {&a, &b}) {
    for (const Sibling& s : side->siblings) {
      if (newest == nullptr || std::tie(s.hlc, s.dot) > std::tie(newest->hlc, newest->dot)) {
        newest = &s;
      }
    }
  }
  if (newest != nullptr) result.siblings.push_back(*newest);
  return result;
}

Object ApplyWriteLastWriterWins(const Object& local, const VersionVector& context,
                                Sibling sibling) {
  Object write;
  write.context = context;
  write.context.Add(sibling.dot);
  write.siblings.push_back(std::move(sibling));
  return SyncLastWriterWins(local, write);
}

Object ApplyWrite(MergePolicy policy, const Object& local, const VersionVector& context,
                  Sibling sibling) {
  return policy == MergePolicy::kLastWriterWins
             ? ApplyWriteLastWriterWins(local, context, std::move(sibling))
             : ApplyWrite(local, context, std::move(sibling));
}

Object Sync(MergePolicy policy, const Object& a, const Object& b) {
  return policy == MergePolicy::kLastWriterWins ? SyncLastWriterWins(a, b) : Sync(a, b);
}

bool Descends(const Object& newer, const Object& older) { return Sync(newer, older) == newer; }

}  // namespace quorumkv
