// What a node's restart must never do: come back under the actor of a life
// whose acknowledged writes it lost. Real processes, a real RocksDB log.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "tests/integration/cluster_fixture.h"

namespace quorumkv::testing {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

constexpr int kKeys = 40;

class RecoveryTest : public ClusterTest {
 protected:
  void SetUp() override { StartCluster(3, 3); }

  std::filesystem::path NodeDir(const std::string& node) {
    return std::filesystem::path(dir_) / "nodes" / node;
  }

  // Cuts every write-ahead log of `node`'s RocksDB to half its size, as a
  // disk that lost the last pages it had acknowledged would. Returns how
  // many bytes were cut.
  uintmax_t TruncateLogsToHalf(const std::string& node) {
    uintmax_t cut = 0;
    for (const auto& entry : std::filesystem::directory_iterator(NodeDir(node) / "db")) {
      if (entry.path().extension() != ".log") continue;
      const uintmax_t size = entry.file_size();
      std::filesystem::resize_file(entry.path(), size / 2);
      cut += size - size / 2;
    }
    return cut;
  }
};

// The scenario of a review: 40 keys put W=3 through n2; kill -9 n2; cut its
// log to half; restart it. RocksDB's point-in-time recovery drops the tail
// quietly. Had n2 kept its actor, its next blind puts would carry contexts
// covering the dots it lost, and every replica would drop those values as
// superseded.
TEST_F(RecoveryTest, ANodeWhoseLogLostItsTailRejoinsAsANewActorAndNoValueIsLost) {
  for (int i = 0; i < kKeys; ++i) {
    CommandResult put =
        KvctlVia("n2", {"put", absl::StrCat("key", i), absl::StrCat("before", i), "--w", "3"});
    ASSERT_EQ(put.exit_code, 0) << put.err;
  }
  ASSERT_EQ(Harness({"kill", "n2"}).exit_code, 0);
  ASSERT_GT(TruncateLogsToHalf("n2"), 0u) << "no write-ahead log to cut";
  ASSERT_EQ(Harness({"restart", "n2"}).exit_code, 0);

  for (int i = 0; i < kKeys; ++i) {
    CommandResult put =
        KvctlVia("n2", {"put", absl::StrCat("key", i), absl::StrCat("after", i), "--w", "3"});
    ASSERT_EQ(put.exit_code, 0) << put.err;
  }
  int lost = 0;
  for (int i = 0; i < kKeys; ++i) {
    const std::vector<std::string> values =
        LiveValues(KvctlJson({"get", absl::StrCat("key", i), "--r", "3"}));
    EXPECT_THAT(values, Contains(absl::StrCat("after", i)));
    if (std::find(values.begin(), values.end(), absl::StrCat("before", i)) == values.end()) {
      ++lost;
    }
  }
  EXPECT_EQ(lost, 0) << lost << " of " << kKeys << " acknowledged values were deleted";
  EXPECT_THAT(NodeLog("n2"), HasSubstr("level=warn node=n2 event=new_dot_generation actor=n2."));
  EXPECT_THAT(NodeLog("n2"), HasSubstr("new actor generation"));
}

}  // namespace
}  // namespace quorumkv::testing
