// gtest printers for DVV objects, so failures show dots, values and
// contexts instead of raw bytes. Found by ADL: they live in quorumkv.
#ifndef QUORUMKV_TESTS_UNIT_REPLICATION_OBJECT_PRINTERS_H_
#define QUORUMKV_TESTS_UNIT_REPLICATION_OBJECT_PRINTERS_H_

#include <ostream>

#include "absl/strings/escaping.h"
#include "replication/object.h"

namespace quorumkv {

inline void PrintTo(const Sibling& s, std::ostream* os) {
  *os << DotToString(s.dot) << "@" << s.hlc << "="
      << (s.tombstone ? "<deleted>" : "'" + absl::CHexEscape(s.value) + "'");
}

inline void PrintTo(const Object& o, std::ostream* os) {
  *os << VersionVectorToString(o.context) << " [";
  for (size_t i = 0; i < o.siblings.size(); ++i) {
    if (i > 0) *os << ", ";
    PrintTo(o.siblings[i], os);
  }
  *os << "]";
}

inline void PrintTo(const VersionVector& vv, std::ostream* os) { *os << VersionVectorToString(vv); }

}  // namespace quorumkv

#endif  // QUORUMKV_TESTS_UNIT_REPLICATION_OBJECT_PRINTERS_H_
