// WriteGroup: writes submitted while a group is being written go together
// in the next group, each gets its own result, in order.
#include "replication/write_group.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/unit/replication/fake_store.h"

namespace quorumkv {
namespace {

using ::testing::ElementsAre;

using test_support::FakeStore;

WriteGroup::Mutate Put(const std::string& value) {
  return [value](const std::optional<Object>& current) -> absl::StatusOr<Object> {
    Object next = current.value_or(Object());
    next.context.Add({value, 1});
    next.siblings.push_back(Sibling{.dot = {value, 1}, .value = value});
    return next;
  };
}

TEST(WriteGroupTest, WritesSubmittedDuringAGroupGoTogetherInTheNext) {
  FakeStore store("n1", 1);
  WriteGroup group(&store, nullptr);
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
  EXPECT_THAT(store.batch_sizes(), ElementsAre(1, 2));
  EXPECT_THAT(done, ElementsAre("a1", "b", "a2"));
  EXPECT_EQ((*store.Read("a"))->siblings.size(), 2u);
}

TEST(WriteGroupTest, AFailedMutationFailsOnlyItsOwnWrite) {
  FakeStore store("n1", 1);
  WriteGroup group(&store, nullptr);
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
