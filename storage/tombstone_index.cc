#include "storage/tombstone_index.h"

#include <optional>
#include <string>

#include "replication/object.h"
#include "replication/object_codec.h"
#include "replication/status_macros.h"
#include "storage/index_build.h"

namespace quorumkv::tombstone_index {
namespace {

constexpr absl::string_view kPrefix = "tomb/";
constexpr absl::string_view kCompleteKey = "tombstone_index_complete";
constexpr size_t kTimeBytes = 8;

std::string TimePrefix(uint64_t time) {
  std::string out(kPrefix);
  for (int i = kTimeBytes - 1; i >= 0; --i)
    out.push_back(static_cast<char>((time >> (8 * i)) & 0xff));
  return out;
}

std::string EntryKey(uint64_t time, absl::string_view key) {
  std::string out = TimePrefix(time);
  out.append(key.data(), key.size());
  return out;
}

uint64_t TimeOf(absl::string_view entry) {
  uint64_t time = 0;
  for (size_t i = 0; i < kTimeBytes; ++i) {
    time = (time << 8) | static_cast<uint8_t>(entry[kPrefix.size() + i]);
  }
  return time;
}

}  // namespace

void Stage(uint64_t tombstone_time, absl::string_view key, WriteBatch* batch) {
  batch->Put(ColumnFamily::kMeta, EntryKey(tombstone_time, key), "");
}

void Unstage(uint64_t tombstone_time, absl::string_view key, WriteBatch* batch) {
  batch->Delete(ColumnFamily::kMeta, EntryKey(tombstone_time, key));
}

absl::Status Scan(Engine* engine, uint64_t time_before,
                  absl::FunctionRef<bool(uint64_t tombstone_time, absl::string_view key)> visit) {
  const std::string start = TimePrefix(0);
  const std::string end = TimePrefix(time_before);
  const size_t key_at = start.size();
  return engine->Scan(ColumnFamily::kMeta, start, end,
                      [&](absl::string_view entry, absl::string_view) {
                        return visit(TimeOf(entry), entry.substr(key_at));
                      });
}

absl::Status BuildIfMissing(Engine* engine) {
  return BuildIndexOnce(engine, kCompleteKey,
                        [](absl::string_view key, absl::string_view bytes, WriteBatch* batch) {
                          ASSIGN_OR_RETURN(Object object, DecodeObject(bytes));
                          if (const std::optional<uint64_t> time = TombstoneTime(object)) {
                            Stage(*time, key, batch);
                          }
                          return absl::OkStatus();
                        });
}

}  // namespace quorumkv::tombstone_index
