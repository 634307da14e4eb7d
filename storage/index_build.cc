#include "storage/index_build.h"

#include <optional>
#include <string>

#include "replication/status_macros.h"

namespace quorumkv {
namespace {

constexpr size_t kBuildBatchOps = 4096;

}  // namespace

absl::Status BuildIndexOnce(Engine* engine, absl::string_view complete_key,
                            StageIndexEntries stage) {
  ASSIGN_OR_RETURN(std::optional<std::string> complete,
                   engine->Get(ColumnFamily::kMeta, complete_key));
  if (complete) return absl::OkStatus();
  WriteBatch batch;
  absl::Status failed;
  RETURN_IF_ERROR(engine->Scan(ColumnFamily::kData, "", "",
                               [&](absl::string_view key, absl::string_view bytes) {
                                 failed = stage(key, bytes, &batch);
                                 if (!failed.ok()) return false;
                                 if (batch.ops().size() < kBuildBatchOps) return true;
                                 failed = engine->Write(batch, WriteOptions{.sync = false});
                                 batch = WriteBatch();
                                 return failed.ok();
                               }));
  RETURN_IF_ERROR(failed);
  batch.Put(ColumnFamily::kMeta, complete_key, "1");
  return engine->Write(batch, WriteOptions{.sync = true});
}

}  // namespace quorumkv
