// libFuzzer target: the cluster config parser and its validation
// (replication/cluster_config.h), on arbitrary text: kvnode --config and
// kvharness --config read files an operator wrote.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "replication/cluster_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)quorumkv::ParseClusterConfig(absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
