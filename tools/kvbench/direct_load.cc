#include "tools/kvbench/direct_load.h"

#include "replication/object.h"
#include "replication/object_codec.h"
#include "replication/status_macros.h"
#include "storage/engine_replica_store.h"
#include "storage/rocksdb_engine.h"
#include "storage/segment_index.h"
#include "tools/kvbench/runner.h"
#include "tools/kvbench/workload.h"

namespace quorumkv::bench {
namespace {

constexpr size_t kKeysPerBatch = 1000;

}  // namespace

absl::Status LoadNodeStorage(const std::string& db_path, const std::string& watermark_dir,
                             const std::string& node_id, uint64_t keys, const ValueOf& value_of,
                             const SkipKey& skip, uint64_t hlc, std::atomic<uint64_t>* loaded) {
  ASSIGN_OR_RETURN(
      std::unique_ptr<RocksDbEngine> engine,
      RocksDbEngine::Open(RocksDbEngineOptions{.path = db_path, .watermark_dir = watermark_dir}));
  // Opened as the node would open it, so that the node finds its actor and
  // a clean shutdown when it starts again.
  ASSIGN_OR_RETURN(std::unique_ptr<EngineReplicaStore> store,
                   EngineReplicaStore::Open(engine.get(), ReplicaStoreOptions{.node_id = node_id}));
  WriteBatch batch;
  uint64_t in_batch = 0;
  for (uint64_t i = 0; i < keys; ++i) {
    if (g_interrupted) return absl::CancelledError("interrupted");
    if (skip && skip(i)) continue;
    const Object object =
        ApplyWrite(MergePolicy::kSiblings, Object(), VersionVector(),
                   Sibling{.dot = {kLoaderActor, i + 1}, .hlc = hlc, .value = value_of(i)});
    batch.Put(ColumnFamily::kData, KeyName(i), EncodeObject(object));
    segment_index::Stage(KeyName(i), &batch);  // as the store's own first write of a key
    if (++in_batch == kKeysPerBatch) {
      // Unsynced: the synced clean-shutdown mark below makes all of it durable.
      RETURN_IF_ERROR(engine->Write(batch, WriteOptions{.sync = false}));
      *loaded += in_batch;
      batch = WriteBatch();
      in_batch = 0;
    }
  }
  if (in_batch > 0) {
    RETURN_IF_ERROR(engine->Write(batch, WriteOptions{.sync = false}));
    *loaded += in_batch;
  }
  RETURN_IF_ERROR(store->CloseCleanly());
  // Table files, compacted: the node's next start replays no log, and its
  // reads meet the tree a long run would have left.
  return engine->FlushAndCompact();
}

}  // namespace quorumkv::bench
