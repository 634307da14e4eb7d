// Opening an EngineReplicaStore in a test: a failure fails the test.
#ifndef QUORUMKV_TESTS_UNIT_STORAGE_STORE_SUPPORT_H_
#define QUORUMKV_TESTS_UNIT_STORAGE_STORE_SUPPORT_H_

#include <gtest/gtest.h>

#include <memory>

#include "storage/engine_replica_store.h"

namespace quorumkv::test_support {

// Opens a store of node n1 on `engine` (not owned), or returns null after
// failing the test.
inline std::unique_ptr<EngineReplicaStore> OpenStore(
    Engine* engine, ReplicaStoreOptions options = ReplicaStoreOptions{.node_id = "n1"}) {
  absl::StatusOr<std::unique_ptr<EngineReplicaStore>> store =
      EngineReplicaStore::Open(engine, std::move(options));
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

}  // namespace quorumkv::test_support

#endif  // QUORUMKV_TESTS_UNIT_STORAGE_STORE_SUPPORT_H_
