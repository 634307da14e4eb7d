// A fresh directory under ::testing::TempDir(), removed with its contents
// when the object goes out of scope.
#ifndef QUORUMKV_TESTS_UNIT_STORAGE_TEMP_DIR_H_
#define QUORUMKV_TESTS_UNIT_STORAGE_TEMP_DIR_H_

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

namespace quorumkv::test_support {

class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "quorumkv_test_XXXXXX";
    EXPECT_NE(mkdtemp(pattern.data()), nullptr) << pattern;
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;  // best effort: a leftover temp dir is harmless
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace quorumkv::test_support

#endif  // QUORUMKV_TESTS_UNIT_STORAGE_TEMP_DIR_H_
