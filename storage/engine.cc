#include "storage/engine.h"

namespace quorumkv {

const char* ColumnFamilyName(ColumnFamily cf) {
  switch (cf) {
    case ColumnFamily::kData:
      return "data";
    case ColumnFamily::kHints:
      return "hints";
    case ColumnFamily::kMeta:
      return "meta";
  }
  return "?";
}

}  // namespace quorumkv
