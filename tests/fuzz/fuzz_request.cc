// libFuzzer target: what a node checks of a client request before it does
// anything (replication/request_validation.h), on arbitrary bytes parsed as
// a PutRequest (a put, or a delete: a tombstone) or a GetRequest, against a
// 3-node cluster's config with an LWW and a min_w namespace. The first
// input byte picks the request.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "proto/kv.pb.h"
#include "replication/cluster_config.h"
#include "replication/object_codec.h"
#include "replication/request_validation.h"

namespace {

const quorumkv::v1::ClusterConfig& Config() {
  static const quorumkv::v1::ClusterConfig* config = [] {
    auto parsed = quorumkv::ParseClusterConfig(
        "nodes { id: 'n1' address: '127.0.0.1:1' } nodes { id: 'n2' address: '127.0.0.1:2' } "
        "nodes { id: 'n3' address: '127.0.0.1:3' } "
        "namespaces { name: 'cart' conflict: CONFLICT_LWW } namespaces { name: 'bank' min_w: 2 }");
    if (!parsed.ok()) __builtin_trap();
    return new quorumkv::v1::ClusterConfig(*parsed);
  }();
  return *config;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const char* bytes = reinterpret_cast<const char*>(data) + 1;
  const int length = static_cast<int>(size - 1);
  if (data[0] % 2 == 0) {
    quorumkv::v1::PutRequest put;
    if (!put.ParseFromArray(bytes, length)) return 0;
    if (quorumkv::ValidatePutRequest(Config(), put).ok() && !put.context().empty()) {
      (void)quorumkv::DecodeContext(put.context(), put.key());
    }
  } else {
    quorumkv::v1::GetRequest get;
    if (!get.ParseFromArray(bytes, length)) return 0;
    (void)quorumkv::ValidateGetRequest(Config(), get);
  }
  return 0;
}
