// Opening an EngineReplicaStore in a test (a failure fails the test), its
// options, and a one-value object to store.
#ifndef QUORUMKV_TESTS_UNIT_STORAGE_STORE_SUPPORT_H_
#define QUORUMKV_TESTS_UNIT_STORAGE_STORE_SUPPORT_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>

#include "storage/engine_replica_store.h"

namespace quorumkv::test_support {

// Options of a store of `node` whose new epochs are `epoch`, leasing dots
// `dot_lease_block` at a time.
inline ReplicaStoreOptions StoreOptions(const std::string& node, uint32_t epoch = 0x2a,
                                        uint64_t dot_lease_block = 3) {
  return ReplicaStoreOptions{
      .node_id = node, .dot_lease_block = dot_lease_block, .new_epoch = [epoch] { return epoch; }};
}

// An object with one value, written as dot (actor, 1).
inline Object WithValue(const std::string& actor, const std::string& value) {
  Object object;
  object.context.Add({actor, 1});
  object.siblings.push_back(Sibling{.dot = {actor, 1}, .value = value});
  return object;
}

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
