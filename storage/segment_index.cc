#include "storage/segment_index.h"

#include "absl/strings/str_cat.h"
#include "replication/merkle_tree.h"
#include "replication/ring.h"
#include "storage/index_build.h"

namespace quorumkv::segment_index {
namespace {

constexpr absl::string_view kPrefix = "seg/";
constexpr absl::string_view kCompleteKey = "segment_index_complete";

void AppendBigEndian(uint64_t value, int bytes, std::string* out) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

// The entry key's prefix up to and including the hash.
std::string EntryPrefix(uint32_t segment, uint64_t hash) {
  std::string out(kPrefix);
  AppendBigEndian(segment, 2, &out);
  AppendBigEndian(hash, 8, &out);
  return out;
}

std::string EntryKey(absl::string_view key) {
  return absl::StrCat(EntryPrefix(MerkleTree::SegmentOf(key), StableHash(key)), key);
}

}  // namespace

void Stage(absl::string_view key, WriteBatch* batch) {
  batch->Put(ColumnFamily::kMeta, EntryKey(key), "");
}

void Unstage(absl::string_view key, WriteBatch* batch) {
  batch->Delete(ColumnFamily::kMeta, EntryKey(key));
}

absl::Status ScanKeys(Engine* engine, uint32_t segment, uint64_t hash_first, uint64_t hash_last,
                      absl::FunctionRef<bool(absl::string_view key)> visit) {
  const std::string start = EntryPrefix(segment, hash_first);
  // Past every entry of hash_last: the next hash, or the next segment.
  const std::string end =
      hash_last == UINT64_MAX ? EntryPrefix(segment + 1, 0) : EntryPrefix(segment, hash_last + 1);
  const size_t key_at = start.size();
  return engine->Scan(
      ColumnFamily::kMeta, start, end,
      [&](absl::string_view entry, absl::string_view) { return visit(entry.substr(key_at)); });
}

absl::Status BuildIfMissing(Engine* engine) {
  return BuildIndexOnce(engine, kCompleteKey,
                        [](absl::string_view key, absl::string_view, WriteBatch* batch) {
                          Stage(key, batch);
                          return absl::OkStatus();
                        });
}

}  // namespace quorumkv::segment_index
