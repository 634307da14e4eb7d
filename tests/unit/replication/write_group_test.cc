// WriteGroup: writes submitted while a group is being written go together
// in the next group, each gets its own result, in order.
#include "replication/write_group.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "storage/engine_replica_store.h"
#include "storage/mem_engine.h"
#include "tests/unit/storage/store_support.h"

namespace quorumkv {
namespace {

using ::testing::ElementsAre;

// Counts the object writes of each storage write.
class CountingEngine : public Engine {
 public:
  absl::StatusOr<std::optional<std::string>> Get(ColumnFamily cf, absl::string_view key) override {
    return base_.Get(cf, key);
  }
  absl::Status Write(const WriteBatch& batch, const WriteOptions& options) override {
    size_t objects = 0;
    for (const WriteBatch::Op& op : batch.ops()) objects += op.cf == ColumnFamily::kData;
    if (objects > 0) writes.push_back(objects);
    return base_.Write(batch, options);
  }
  absl::Status Scan(ColumnFamily cf, absl::string_view start, absl::string_view end,
                    Visitor visit) override {
    return base_.Scan(cf, start, end, visit);
  }

  std::vector<size_t> writes;  // objects per storage write

 private:
  MemEngine base_;
};

using test_support::OpenStore;

WriteGroup::Mutate Put(const std::string& value) {
  return [value](const std::optional<Object>& current) -> absl::StatusOr<Object> {
    Object next = current.value_or(Object());
    next.context.Add({value, 1});
    next.siblings.push_back(Sibling{.dot = {value, 1}, .value = value});
    return next;
  };
}

TEST(WriteGroupTest, WritesSubmittedDuringAGroupGoTogetherInTheNext) {
  CountingEngine engine;
  std::unique_ptr<EngineReplicaStore> store = OpenStore(&engine);
  ASSERT_NE(store, nullptr);
  WriteGroup group(store.get(), nullptr);
  std::vector<std::string> done;
  auto record = [&done](std::string name) {
    return [&done, name](absl::StatusOr<Object> stored) {
      if (stored.ok()) done.push_back(name);
    };
  };
  // The first write's mutation runs while its group is being written:
  // what it submits waits for the next group.
  WriteGroup::Mutate first = [&](const std::optional<Object>& current) {
    group.Submit("b", Put("b"), record("b"));
    group.Submit("a", Put("a2"), record("a2"));
    return Put("a1")(current);
  };
  group.Submit("a", first, record("a1"));
  EXPECT_THAT(engine.writes, ElementsAre(1, 2));
  EXPECT_THAT(done, ElementsAre("a1", "b", "a2"));
  EXPECT_EQ((*store->Read("a"))->siblings.size(), 2u);
}

TEST(WriteGroupTest, AFailedMutationFailsOnlyItsOwnWrite) {
  MemEngine engine;
  std::unique_ptr<EngineReplicaStore> store = OpenStore(&engine);
  ASSERT_NE(store, nullptr);
  WriteGroup group(store.get(), nullptr);
  std::vector<absl::Status> statuses;
  auto record = [&statuses](absl::StatusOr<Object> stored) { statuses.push_back(stored.status()); };
  WriteGroup::Mutate first = [&](const std::optional<Object>& current) {
    group.Submit(
        "b", [](const auto&) { return absl::StatusOr<Object>(absl::AbortedError("no")); }, record);
    group.Submit("c", Put("c"), record);
    return Put("a")(current);
  };
  group.Submit("a", first, record);
  EXPECT_THAT(statuses, ElementsAre(absl::OkStatus(), absl::AbortedError("no"), absl::OkStatus()));
}

}  // namespace
}  // namespace quorumkv
